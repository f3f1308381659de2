// RUN: xjit-opt %s -p torch-to-loops | filecheck %s

// torch-to-loops inlines calls first (the `inlined` stage), so IR as xjit.jit emits it for
// modules with traced/scripted submodules lowers as one function.

func.func private @cell.forward(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %0 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}

func.func @forward(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %0 = func.call @cell.forward(%x) : (!torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32>
  %1 = torch.aten.neg %0 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %1 : !torch.vtensor<[3,4],f32>
}

// CHECK-NOT:   @cell.forward
// CHECK-LABEL: func.func @forward(%x: memref<3x4xf32>) -> memref<3x4xf32>
// CHECK-NOT:   func.call
// CHECK:       loop.nest
// CHECK-DAG:     math.tanh
// CHECK-DAG:     arith.negf
// CHECK:       func.return
