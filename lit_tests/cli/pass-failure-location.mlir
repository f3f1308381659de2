// RUN: not xjit-opt %s --split-input-file -p convert-linalg-to-loop 2>&1 | filecheck %s
// RUN: not xjit-opt %s --split-input-file -p convert-torch-to-linalg 2>&1 | filecheck %s --check-prefix=TYPE
// A pass failure is reported at a line and column with its source line and a caret, also when
// the pass's message only names an op kind in quotes ('linalg.fill' on tensors: bufferize
// first) or a type it cannot convert (a type conversion carries no op): at the first op of the
// input that has it. Both were only the file name (tests/cli_fuzz.py lists such failures).

func.func @f(%e: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
  func.return %f : tensor<3x4xf32>
}

// CHECK: pass-failure-location.mlir:10:3: error: pass 'convert-linalg-to-loop' failed: convert-linalg-to-loop: 'linalg.fill' on tensors; run `bufferize` first
// CHECK-NEXT: {{^}}  %f = linalg.fill
// CHECK-NEXT: {{^}}  ^

// -----

func.func @g(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.tanh %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %1 = torch.tensor_static_info_cast %0 : !torch.vtensor<[3],f32> to !torch.vtensor<*,f32>
  %2 = torch.tensor_static_info_cast %1 : !torch.vtensor<*,f32> to !torch.vtensor<[3],f32>
  func.return %2 : !torch.vtensor<[3],f32>
}

// TYPE: pass-failure-location.mlir:22:3: error: pass 'convert-torch-to-linalg' failed: cannot lower !torch.vtensor<*,f32>: rank and dtype must be known (run shape refinement first)
// TYPE-NEXT: {{^}}  %1 = torch.tensor_static_info_cast
// TYPE-NEXT: {{^}}  ^
