// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p torch-to-loops | filecheck %s --check-prefix=LOOPS

// Indexing by tensors lowers to one linalg.generic over the result: the index tensors are
// inputs read through their maps, the source is read with tensor.extract at the computed
// position (the numpy backend turns it into fancy indexing).

// CHECK-LABEL: func.func @index_select
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>]
// CHECK-NEXT:    ^bb0(%[[IDX:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT:      %[[ROW:.*]] = linalg.index 0 : index
// CHECK-NEXT:      %[[COL:.*]] = arith.index_cast %[[IDX]] : i64 to index
// CHECK-NEXT:      %[[V:.*]] = tensor.extract %x[%[[ROW]], %[[COL]]] : tensor<3x4xf32>
// CHECK-NEXT:      linalg.yield %[[V]] : f32
// LOOPS-LABEL: func.func @index_select
// LOOPS:         loop.nest (%[[A:.*]], %[[B:.*]]) to
// LOOPS-NEXT:      %[[L:.*]] = loop.load %i[%[[A]], %[[B]]] affine_map<(d0, d1) -> (d1)> : memref<2xi64>
// LOOPS-NEXT:      %[[C:.*]] = arith.index_cast %[[L]] : i64 to index
// LOOPS-NEXT:      loop.load %x[%[[A]], %[[C]]] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
func.func @index_select(%x: !torch.vtensor<[3,4],f32>, %i: !torch.vtensor<[2],si64>) -> !torch.vtensor<[3,2],f32> {
  %int1 = torch.constant.int 1
  %0 = torch.aten.index_select %x, %int1, %i : !torch.vtensor<[3,4],f32>, !torch.int, !torch.vtensor<[2],si64> -> !torch.vtensor<[3,2],f32>
  func.return %0 : !torch.vtensor<[3,2],f32>
}

// CHECK-LABEL: func.func @index_leading
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>]
// CHECK:           %[[R:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK-NEXT:      %[[C:.*]] = linalg.index 1 : index
// CHECK-NEXT:      tensor.extract %x[%[[R]], %[[C]]] : tensor<3x4xf32>
func.func @index_leading(%x: !torch.vtensor<[3,4],f32>, %i: !torch.vtensor<[2],si64>) -> !torch.vtensor<[2,4],f32> {
  %1 = torch.prim.ListConstruct %i : (!torch.vtensor<[2],si64>) -> !torch.list<vtensor>
  %2 = torch.aten.index.Tensor_hacked_twin %x, %1 : !torch.vtensor<[3,4],f32>, !torch.list<vtensor> -> !torch.vtensor<[2,4],f32>
  func.return %2 : !torch.vtensor<[2,4],f32>
}
