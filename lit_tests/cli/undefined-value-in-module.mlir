// RUN: not xjit-opt %s 2>&1 | filecheck %s
// RUN: not xjit-opt %s -p torch-to-loops 2>&1 | filecheck %s
// RUN: not xjit-run %s --entry gate 2>&1 | filecheck %s --check-prefix=TOOL

// Found by fuzz.cli (lit_tests/passes/view-op-graph.mlir with two lines swapped): a value
// used where its definition was never reached left xDSL's parser placeholder, and the verifier
// failed on it with an unlocated "Forward declared values do not have an owner". Every tool now
// points at the op.

// CHECK: undefined-value-in-module.mlir:[[# @LINE + 4]]:3: error: 'torch.prim.If' op operand #0 is used but never defined
// CHECK-NOT: Traceback
// TOOL: undefined-value-in-module.mlir:[[# @LINE + 2]]:3: 'torch.prim.If' op operand #0 is used but never defined
    torch.prim.If.yield %2 : !torch.vtensor<[3],f32>
  %0 = torch.prim.If %c -> (!torch.vtensor<[3],f32>) {
    %1 = torch.aten.tanh %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
    torch.prim.If.yield %1 : !torch.vtensor<[3],f32>
  } else {
    %2 = torch.aten.neg %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
func.func @gate(%x: !torch.vtensor<[3],f32>, %c: !torch.bool) -> !torch.vtensor<[3],f32> {
  }
  func.return %0 : !torch.vtensor<[3],f32>
}
