// RUN: not xjit-opt %s 2>&1 | filecheck %s
// xDSL reports undefined values at the end of the input: xjit-opt points at the first use.

func.func @f(%a: i32) -> i32 {
  %0 = arith.addi %a, %b : i32
  func.return %0 : i32
}

// CHECK: undefined-value.mlir:5:3: error: use of undefined value '%b'
// CHECK-NEXT: {{^}}  %0 = arith.addi %a, %b : i32
// CHECK-NOT: Traceback
