// RUN: not xjit-opt %s 2>&1 | filecheck %s
// A syntax error is one diagnostic with file:line:col, the source line and a caret; no traceback.

func.func @f(%a: i32) -> i32 {
  %0 = arith.addi %a, %a : i32 i32
  func.return %0 : i32
}

// CHECK: parse-error.mlir:6:3: error: Operation i32 is not registered
// CHECK-NEXT: {{^}}  func.return %0 : i32
// CHECK-NEXT: {{^}}  ^
// CHECK-NOT: Traceback
