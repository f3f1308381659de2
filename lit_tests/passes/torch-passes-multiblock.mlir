// RUN: xjit-opt %s -p torch-shape-refinement | filecheck %s
// RUN: xjit-opt %s -p torch-fold-constants | filecheck %s
// RUN: xjit-opt %s -p torch-to-loops | filecheck %s --check-prefix=LOOPS
// torch functions have one block (control flow is prim.If / prim.Loop regions): a function of
// several blocks (cf-level IR, here with an unreachable block) is left as it is. The passes read
// `f.body.block` and failed with "ValueError: 'block' property of Region class is only
// available for single-block regions" (found by tests/cli_fuzz.py).

// CHECK-LABEL: func.func @unreachable(%a: i32) -> i32 {
// CHECK-NEXT:    %x = arith.addi %a, %a : i32
// CHECK-NEXT:    func.return %x : i32
// CHECK-NEXT:  ^bb1:
// CHECK-NEXT:    %y = arith.addi %x, %x : i32
// CHECK-NEXT:    func.return %y : i32
// CHECK-NEXT:  }
// The pipeline's canonicalize then drops the unreachable block.
// LOOPS-LABEL: func.func @unreachable(%a: i32) -> i32 {
// LOOPS-NEXT:    %x = arith.addi %a, %a : i32
// LOOPS-NEXT:    func.return %x : i32
// LOOPS-NEXT:  }
func.func @unreachable(%a: i32) -> i32 {
  %x = arith.addi %a, %a : i32
  func.return %x : i32
^bb1:
  %y = arith.addi %x, %x : i32
  func.return %y : i32
}
