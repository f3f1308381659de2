// RUN: not xjit-opt %s --split-input-file -p convert-torch-to-linalg 2>&1 | filecheck %s --check-prefix=ERR

// What convert-torch-to-linalg refuses, each with a diagnostic that says what to do.

// Composite ops must be decomposed first.
// ERR: convert-torch-to-linalg-invalid.mlir:[[# @LINE + 3]]:3: error: pass 'convert-torch-to-linalg' failed: convert-torch-to-linalg: no lowering for 'torch.aten.linear' (run torch-decompose first)
func.func @linear(%x: !torch.vtensor<[3,4],f32>, %w: !torch.vtensor<[5,4],f32>) -> !torch.vtensor<[3,5],f32> {
  %none = torch.constant.none
  %0 = torch.aten.linear %x, %w, %none : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.none -> !torch.vtensor<[3,5],f32>
  func.return %0 : !torch.vtensor<[3,5],f32>
}

// -----

// ERR: convert-torch-to-linalg-invalid.mlir:[[# @LINE + 1]]:1: error: pass 'convert-torch-to-linalg' failed: cannot lower !torch.vtensor<*,f32>: rank and dtype must be known (run shape refinement first)
func.func @unranked(%x: !torch.vtensor<*,f32>) -> !torch.vtensor<*,f32> {
  func.return %x : !torch.vtensor<*,f32>
}

// -----

// ERR: convert-torch-to-linalg-invalid.mlir:[[# @LINE + 1]]:1: error: pass 'convert-torch-to-linalg' failed: cannot lower a value of type !torch.number to builtin types
func.func @number(%x: !torch.vtensor<[3],f32>, %s: !torch.number) -> !torch.vtensor<[3],f32> {
  %int1 = torch.constant.int 1
  %0 = torch.aten.add.Scalar %x, %s, %int1 : !torch.vtensor<[3],f32>, !torch.number, !torch.int -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
