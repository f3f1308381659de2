// RUN: xjit-opt %s --split-input-file --verify-diagnostics

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
