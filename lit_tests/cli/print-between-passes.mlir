// RUN: xjit-opt %s -p canonicalize,cse --print-between-passes 2>&1 >/dev/null | filecheck %s
// RUN: xjit-opt %s -p canonicalize,cse --mlir-print-ir-after-all 2>&1 >/dev/null | filecheck %s
// RUN: xjit-opt %s -p canonicalize,cse --print-between-passes 2>/dev/null | filecheck %s --check-prefix=OUT

// The IR after each pass goes to stderr in mlir-opt's format; stdout holds only the result.

func.func @f() -> i32 {
  %0 = arith.constant 1 : i32
  %1 = arith.constant 2 : i32
  %2 = arith.addi %0, %1 : i32
  %3 = arith.constant 3 : i32
  func.return %2 : i32
}

// CHECK:      // -----// IR Dump After canonicalize //----- //
// CHECK-NEXT: builtin.module {
// CHECK-NEXT:   func.func @f() -> i32 {
// CHECK-NEXT:     %0 = arith.constant 3 : i32
// CHECK-NEXT:     func.return %0 : i32
// CHECK:      // -----// IR Dump After cse //----- //
// CHECK-NEXT: builtin.module {

// OUT-NOT:    IR Dump
// OUT:        builtin.module {
// OUT-NEXT:     func.func @f() -> i32 {
// OUT-NEXT:       %0 = arith.constant 3 : i32
// OUT-NEXT:       func.return %0 : i32
// OUT-NOT:    IR Dump
