// RUN: xjit-opt %s | xjit-opt | filecheck %s --check-prefix=ROUND
// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s --check-prefix=NOTORCH

// String operands (`torch.constant.str`, torch-mlir's spelling) round-trip and are read as
// Python constants by the lowering; rounding ops become math ops (round is round-half-even).
// NOTORCH-NOT: torch.
// NOTORCH-NOT: !torch

// ROUND-LABEL: func.func @gelu_tanh
// ROUND:         %str = torch.constant.str "tanh"
// ROUND-NEXT:    %0 = torch.aten.gelu %x, %str : !torch.vtensor<[3],f32>, !torch.str -> !torch.vtensor<[3],f32>
// CHECK-LABEL: func.func @gelu_tanh
// CHECK:         linalg.generic
// CHECK:           math.tanh
// CHECK-NOT:       math.erf
// CHECK:           linalg.yield
func.func @gelu_tanh(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %str = torch.constant.str "tanh"
  %0 = torch.aten.gelu %x, %str : !torch.vtensor<[3],f32>, !torch.str -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// CHECK-LABEL: func.func @rounding
// CHECK:         math.floor
// CHECK:         math.ceil
// CHECK:         math.roundeven
// CHECK:         math.trunc
func.func @rounding(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.floor %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %1 = torch.aten.ceil %0 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %2 = torch.aten.round %1 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %3 = torch.aten.trunc %2 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %3 : !torch.vtensor<[3],f32>
}

// Integer `x // -2` with trunc rounding: arith.divsi on i64, no float detour.
// CHECK-LABEL: func.func @div_trunc_int
// CHECK:         arith.divsi
// CHECK-SAME:      i64
func.func @div_trunc_int(%x: !torch.vtensor<[4],si64>) -> !torch.vtensor<[4],si64> {
  %int = torch.constant.int -2
  %str = torch.constant.str "trunc"
  %0 = torch.aten.div.Scalar_mode %x, %int, %str : !torch.vtensor<[4],si64>, !torch.int, !torch.str -> !torch.vtensor<[4],si64>
  func.return %0 : !torch.vtensor<[4],si64>
}
