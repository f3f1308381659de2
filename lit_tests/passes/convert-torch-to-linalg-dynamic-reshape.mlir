// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s

// view/reshape with a dynamic (batch) dim: static groups are matched from both ends, the rest
// (holding the dynamic dims) is one group collapsed and re-expanded; a dynamic result dim is
// the group's run-time size divided by its static dims, asserted exact (torch raises when the
// element count does not fit the shape), and a dynamic dim viewed as a static one is asserted.

// A split of a static dim: the batch passes through as tensor.dim.
// CHECK-LABEL: func.func @split_batch
// CHECK:         %[[D:.*]] = tensor.dim %x, %{{.*}} : tensor<?x8xf32>
// CHECK-NOT:     cf.assert
// CHECK:         tensor.expand_shape %x {{\[\[}}0 : i64], [1 : i64, 2 : i64]] output_shape [%[[D]], 2, 4] : tensor<?x8xf32> into tensor<?x2x4xf32>

func.func @split_batch(%x: !torch.vtensor<[?,8],f32>) -> !torch.vtensor<[?,2,4],f32> {
  %m1 = torch.constant.int -1
  %c2 = torch.constant.int 2
  %c4 = torch.constant.int 4
  %s = torch.prim.ListConstruct %m1, %c2, %c4 : (!torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,8],f32>, !torch.list<int> -> !torch.vtensor<[?,2,4],f32>
  func.return %0 : !torch.vtensor<[?,2,4],f32>
}

// Merging the batch into the rows (nn.Linear on a 3-d input): one collapse, nothing to check.
// CHECK-LABEL: func.func @merge_batch
// CHECK-NOT:     cf.assert
// CHECK:         tensor.collapse_shape %x {{\[\[}}0 : i64, 1 : i64], [2 : i64]] : tensor<?x5x8xf32> into tensor<?x8xf32>
// CHECK-NEXT:    func.return
func.func @merge_batch(%x: !torch.vtensor<[?,5,8],f32>) -> !torch.vtensor<[?,8],f32> {
  %m1 = torch.constant.int -1
  %c8 = torch.constant.int 8
  %s = torch.prim.ListConstruct %m1, %c8 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,5,8],f32>, !torch.list<int> -> !torch.vtensor<[?,8],f32>
  func.return %0 : !torch.vtensor<[?,8],f32>
}

// Splitting the rows back: the batch is rows / 5, asserted exact.
// CHECK-LABEL: func.func @unbatch
// CHECK:         %[[N:.*]] = tensor.dim %x, %{{.*}} : tensor<?x8xf32>
// CHECK-NEXT:    %[[C5:.*]] = arith.constant 5 : index
// CHECK-NEXT:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[R:.*]] = arith.remsi %[[N]], %[[C5]] : index
// CHECK-NEXT:    %[[OK:.*]] = arith.cmpi eq, %[[R]], %[[C0]] : index
// CHECK-NEXT:    cf.assert %[[OK]], "reshape: the shape is invalid for the input's number of elements"
// CHECK-NEXT:    %[[B:.*]] = arith.divsi %[[N]], %[[C5]] : index
// CHECK-NEXT:    tensor.expand_shape %x {{\[\[}}0 : i64, 1 : i64], [2 : i64]] output_shape [%[[B]], 5, 8] : tensor<?x8xf32> into tensor<?x5x8xf32>
func.func @unbatch(%x: !torch.vtensor<[?,8],f32>) -> !torch.vtensor<[?,5,8],f32> {
  %m1 = torch.constant.int -1
  %c5 = torch.constant.int 5
  %c8 = torch.constant.int 8
  %s = torch.prim.ListConstruct %m1, %c5, %c8 : (!torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,8],f32>, !torch.list<int> -> !torch.vtensor<[?,5,8],f32>
  func.return %0 : !torch.vtensor<[?,5,8],f32>
}

// No static group lines up: everything collapses to one dim, then splits by 4 (asserted).
// CHECK-LABEL: func.func @regroup
// CHECK:         %[[F:.*]] = tensor.collapse_shape %x {{\[\[}}0 : i64, 1 : i64]] : tensor<?x6xf32> into tensor<?xf32>
// CHECK-NEXT:    %{{.*}} = arith.constant 0 : index
// CHECK-NEXT:    %[[N:.*]] = tensor.dim %[[F]], %{{.*}} : tensor<?xf32>
// CHECK-NEXT:    %[[C4:.*]] = arith.constant 4 : index
// CHECK:         arith.remsi %[[N]], %[[C4]] : index
// CHECK:         cf.assert
// CHECK-NEXT:    %[[B:.*]] = arith.divsi %[[N]], %[[C4]] : index
// CHECK-NEXT:    tensor.expand_shape %[[F]] {{\[\[}}0 : i64, 1 : i64]] output_shape [%[[B]], 4] : tensor<?xf32> into tensor<?x4xf32>
func.func @regroup(%x: !torch.vtensor<[?,6],f32>) -> !torch.vtensor<[?,4],f32> {
  %m1 = torch.constant.int -1
  %c4 = torch.constant.int 4
  %s = torch.prim.ListConstruct %m1, %c4 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,6],f32>, !torch.list<int> -> !torch.vtensor<[?,4],f32>
  func.return %0 : !torch.vtensor<[?,4],f32>
}

// A dynamic dim viewed as a static size: asserted equal, then a tensor.cast.
// CHECK-LABEL: func.func @to_static
// CHECK:         %[[C2:.*]] = arith.constant 2 : index
// CHECK:         %[[D:.*]] = tensor.dim %x, %{{.*}} : tensor<?x4xf32>
// CHECK-NEXT:    %[[OK:.*]] = arith.cmpi eq, %[[D]], %[[C2]] : index
// CHECK-NEXT:    cf.assert %[[OK]], "reshape: the shape is invalid for the input's number of elements"
// CHECK-NEXT:    %[[V:.*]] = tensor.cast %x : tensor<?x4xf32> to tensor<2x4xf32>
// CHECK-NEXT:    func.return %[[V]] : tensor<2x4xf32>
func.func @to_static(%x: !torch.vtensor<[?,4],f32>) -> !torch.vtensor<[2,4],f32> {
  %c2 = torch.constant.int 2
  %c4 = torch.constant.int 4
  %s = torch.prim.ListConstruct %c2, %c4 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,4],f32>, !torch.list<int> -> !torch.vtensor<[2,4],f32>
  func.return %0 : !torch.vtensor<[2,4],f32>
}

// Sizes given at run time (x.size(0)) are index-cast and checked against the group's size:
// their product (times the static dims) must be it.
// CHECK-LABEL: func.func @run_time_size
// CHECK:         %[[B:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK:         %[[D:.*]] = tensor.dim %x, %{{.*}} : tensor<?x8xf32>
// CHECK-NEXT:    %[[BI:.*]] = arith.index_cast %[[B]] : i64 to index
// CHECK-NEXT:    %[[OK:.*]] = arith.cmpi eq, %[[BI]], %[[D]] : index
// CHECK-NEXT:    cf.assert %[[OK]], "reshape: the shape is invalid for the input's number of elements"
// CHECK-NEXT:    tensor.expand_shape %x {{\[\[}}0 : i64], [1 : i64, 2 : i64]] output_shape [%[[BI]], 2, 4] : tensor<?x8xf32> into tensor<?x2x4xf32>
func.func @run_time_size(%x: !torch.vtensor<[?,8],f32>) -> !torch.vtensor<[?,2,4],f32> {
  %c0 = torch.constant.int 0
  %c2 = torch.constant.int 2
  %c4 = torch.constant.int 4
  %n = torch.aten.size.int %x, %c0 : !torch.vtensor<[?,8],f32>, !torch.int -> !torch.int
  %s = torch.prim.ListConstruct %n, %c2, %c4 : (!torch.int, !torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.view %x, %s : !torch.vtensor<[?,8],f32>, !torch.list<int> -> !torch.vtensor<[?,2,4],f32>
  func.return %0 : !torch.vtensor<[?,2,4],f32>
}
