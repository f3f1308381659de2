// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p torch-to-loops | filecheck %s --check-prefix=LOOPS

// A transpose whose result type is more refined than its input's (a `?` the result knows, as
// shape refinement writes it) transposes at the sizes both know: the `?` made static is checked
// at run time, and linalg.transpose's input and output sizes agree (tests/cli_fuzz.py found
// the lowering leaving a linalg.transpose of tensor<4x?xf32> into tensor<3x4xf32>).

// CHECK-LABEL: func.func @refined(
// CHECK:         %[[N:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<4x?xf32>
// CHECK-NEXT:    %[[OK:.*]] = arith.cmpi eq, %[[N]], %{{.*}} : index
// CHECK-NEXT:    cf.assert %[[OK]], "torch.tensor_static_info_cast: dimension 1 is not 3"
// CHECK-NEXT:    %[[C:.*]] = tensor.cast %{{.*}} : tensor<4x?xf32> to tensor<4x3xf32>
// CHECK-NEXT:    %[[E:.*]] = tensor.empty() : tensor<3x4xf32>
// CHECK-NEXT:    linalg.transpose ins(%[[C]]:tensor<4x3xf32>) outs(%[[E]]:tensor<3x4xf32>) permutation = [1, 0]
// LOOPS-LABEL: func.func @refined(
// LOOPS:         cf.assert %{{.*}}, "torch.tensor_static_info_cast: dimension 1 is not 3"
func.func @refined(%u: !torch.vtensor<[4,?],f32>) -> !torch.vtensor<[3,4],f32> {
  %0 = torch.aten.t %u : !torch.vtensor<[4,?],f32> -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}

// A result that leaves `?` a size the input knows: transposed at the static size, then cast.
// CHECK-LABEL: func.func @unrefined(
// CHECK:         %[[T:.*]] = linalg.transpose ins(%{{.*}}:tensor<4x3xf32>) outs(%{{.*}}:tensor<3x4xf32>) permutation = [1, 0]
// CHECK-NEXT:    %{{.*}} = tensor.cast %[[T]] : tensor<3x4xf32> to tensor<?x4xf32>
func.func @unrefined(%u: !torch.vtensor<[4,3],f32>) -> !torch.vtensor<[?,4],f32> {
  %0 = torch.aten.t %u : !torch.vtensor<[4,3],f32> -> !torch.vtensor<[?,4],f32>
  func.return %0 : !torch.vtensor<[?,4],f32>
}
