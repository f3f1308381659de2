// Inputs that used to end in "internal error" (a Python exception from deep inside the
// parser): each is now a located, specific diagnostic.

// Nesting deeper than the recursive parser can take (300 modules raised RecursionError).
// RUN: %python -c "open(r'%t.nested.mlir', 'w').write('builtin.module {\n' * 300 + '}\n' * 300)"
// RUN: not xjit-opt %t.nested.mlir 2>&1 | filecheck %s --check-prefix=NESTED
// RUN: not xjit-opt -p torch-to-loops %t.nested.mlir 2>&1 | filecheck %s --check-prefix=NESTED
// NESTED: nested.mlir:101:16: error: nesting too deep: more than 100 levels of brackets
// NESTED-NOT: internal error

// An integer literal beyond Python's int-from-string limit (4,300 digits).
// RUN: %python -c "open(r'%t.long.mlir', 'w').write('func.func @f() -> i64 {\n  %%0 = arith.constant ' + '9' * 5000 + ' : i64\n  func.return %%0 : i64\n}\n')"
// RUN: not xjit-opt %t.long.mlir 2>&1 | filecheck %s --check-prefix=LONG
// LONG: long.mlir:2:23: error: numeric literal too long (5000 digits; at most 4300)
// LONG-NOT: internal error

// RUN: xjit-opt %s --split-input-file --verify-diagnostics
// RUN: not xjit-opt %s --split-input-file 2>&1 | filecheck %s

// A verifier error of a generic-form op: the location code used to re-validate the op's
// first token as a string literal and fail ("Invalid string literal!").
func.func @generic_form(%n: index) {
  // expected-error@+1 {{expected 1 iterator kinds (one per bound), got 2}}
  "loop.nest"(%n) <{iterators = ["parallel", "reduction"]}> ({
  ^bb0(%i: index):
    "loop.yield"() : () -> ()
  }) : (index) -> ()
  func.return
}
// CHECK: parse-limits.mlir:[[# @LINE - 6]]:3: error: 'loop.nest' op expected 1 iterator kinds (one per bound), got 2
// CHECK-NEXT: {{^}}  "loop.nest"(%n)
// CHECK-NEXT: {{^}}  ^

// -----

// Out-of-range integers in attributes, wherever they are.
func.func @constant() -> i64 {
  // expected-error@+1 {{Integer value 99999999999999999999 is out of range for type i64}}
  %0 = arith.constant 99999999999999999999 : i64
  func.return %0 : i64
}
// CHECK: parse-limits.mlir:[[# @LINE - 3]]:3: error: 'arith.constant' op Integer value 99999999999999999999 is out of range for type i64

// -----

func.func @dense() -> !torch.vtensor<[2],si64> {
  // expected-error@+1 {{Integer value 99999999999999999999 is out of range for type i64}}
  %0 = torch.vtensor.literal(dense<[1, 99999999999999999999]> : tensor<2xi64>) : !torch.vtensor<[2],si64>
  func.return %0 : !torch.vtensor<[2],si64>
}
// CHECK: parse-limits.mlir:[[# @LINE - 3]]:3: error: 'torch.vtensor.literal' op Integer value 99999999999999999999 is out of range for type i64

// CHECK-NOT: internal error
