// RUN: xjit-opt %s --split-input-file --verify-diagnostics
// The check can fail: a changed expected message, and IR made valid, are both errors.
// RUN: sed -e 's/with 3 elements/with 4 elements/' %s > %t.changed.mlir
// RUN: not xjit-opt %t.changed.mlir --split-input-file --verify-diagnostics 2>&1 | filecheck %s --check-prefix=CHANGED
// CHANGED: error: expected error "torch.aten.Bool.Tensor: Boolean value of a tensor with 4 elements
// CHANGED: error: unexpected error: 'torch.aten.Bool.Tensor' op torch.aten.Bool.Tensor: Boolean value of a tensor with 3 elements
// RUN: sed -e 's/torch.prim.If.yield %%n : !torch.int/torch.prim.If.yield %%x : !torch.vtensor<[3],f32>/' %s > %t.valid.mlir
// RUN: not xjit-opt %t.valid.mlir --split-input-file --verify-diagnostics 2>&1 | filecheck %s --check-prefix=VALID
// VALID: error: expected error "the else region yields (!torch.int), but torch.prim.If returns (!torch.vtensor<[3],f32>)" was not produced
// VALID-NOT: error:

func.func @if_yield_mismatch(%c: !torch.bool, %x: !torch.vtensor<[3],f32>, %n: !torch.int) -> !torch.vtensor<[3],f32> {
  // expected-error@+1 {{the else region yields (!torch.int), but torch.prim.If returns (!torch.vtensor<[3],f32>)}}
  %0 = torch.prim.If %c -> (!torch.vtensor<[3],f32>) {
    torch.prim.If.yield %x : !torch.vtensor<[3],f32>
  } else {
    torch.prim.If.yield %n : !torch.int
  }
  func.return %0 : !torch.vtensor<[3],f32>
}

// -----

func.func @loop_block_args(%x: !torch.vtensor<[3],f32>, %n: !torch.int) -> !torch.vtensor<[3],f32> {
  %true = torch.constant.bool true
  // expected-error@+1 {{torch.prim.Loop body arguments must be the iteration index (!torch.int) followed by the loop-carried values (!torch.vtensor<[3],f32>)}}
  %0 = torch.prim.Loop %n, %true, init(%x) {
  ^bb0(%y: !torch.vtensor<[3],f32>):
    torch.prim.Loop.condition %true, iter(%y : !torch.vtensor<[3],f32>)
  } : (!torch.int, !torch.bool, !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// -----

func.func @bool_of_many(%x: !torch.vtensor<[3],f32>) -> !torch.bool {
  // expected-error@+1 {{torch.aten.Bool.Tensor: Boolean value of a tensor with 3 elements (shape [3]): only one-element tensors convert}}
  %0 = torch.aten.Bool.Tensor %x : !torch.vtensor<[3],f32> -> !torch.bool
  func.return %0 : !torch.bool
}
