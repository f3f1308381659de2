// RUN: xjit-opt %s -p torch-decompose | filecheck %s

// aten.convolution with a dynamic batch and dynamic spatial sizes (xjit/ops/conv_ops.py):
// padding blocks are full_like of a one-wide piece of the input, expanded to the pad width, so
// that their `?` sizes are read off the input; the 2x2 windows are slices whose ends count
// from the padded input's end (`-1`: the first tap, none for the last); the columns stay
// channels-last, [N, ?, ?, K*C] @ [K*C, O], permuted back to [N, O, ?, ?].
func.func @conv(%x: !torch.vtensor<[?,2,?,?],f32>, %w: !torch.vtensor<[3,2,2,2],f32>) -> !torch.vtensor<[?,3,?,?],f32> {
  %int1 = torch.constant.int 1
  %false = torch.constant.bool false
  %none = torch.constant.none
  %s = torch.prim.ListConstruct %int1, %int1 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.convolution %x, %w, %none, %s, %s, %s, %false, %s, %int1 : !torch.vtensor<[?,2,?,?],f32>, !torch.vtensor<[3,2,2,2],f32>, !torch.none, !torch.list<int>, !torch.list<int>, !torch.list<int>, !torch.bool, !torch.list<int>, !torch.int -> !torch.vtensor<[?,3,?,?],f32>
  func.return %0 : !torch.vtensor<[?,3,?,?],f32>
}

// CHECK-LABEL: func.func @conv(
// CHECK-NOT:     torch.aten.convolution
// CHECK-COUNT-2: torch.aten.full_like {{.*}} -> !torch.vtensor<[?,2,?,1],f32>
// CHECK:         torch.aten.cat {{.*}} -> !torch.vtensor<[?,2,?,?],f32>
// CHECK-COUNT-2: torch.aten.full_like {{.*}} -> !torch.vtensor<[?,2,1,?],f32>
// CHECK:         %[[PAD:.*]] = torch.aten.cat {{.*}} -> !torch.vtensor<[?,2,?,?],f32>
// Taps (0, 0), then (1, 0) and (1, 1): [0:-1] for the first position of a dim, [1:] for the last.
// CHECK:         %[[A:.*]] = torch.aten.slice.Tensor %[[PAD]], %int2{{[_0-9]*}}, %int0{{[_0-9]*}}, %intm1{{[_0-9]*}}, %int1
// CHECK:         torch.aten.slice.Tensor %[[A]], %int3{{[_0-9]*}}, %int0{{[_0-9]*}}, %intm1{{[_0-9]*}}, %int1
// CHECK:         %[[C:.*]] = torch.aten.slice.Tensor %[[PAD]], %int2{{[_0-9]*}}, %int1{{[_0-9]*}}, %none
// CHECK:         torch.aten.slice.Tensor %[[C]], %int3{{[_0-9]*}}, %int0{{[_0-9]*}}, %intm1{{[_0-9]*}}, %int1
// CHECK:         %[[D:.*]] = torch.aten.slice.Tensor %[[PAD]], %int2{{[_0-9]*}}, %int1{{[_0-9]*}}, %none
// CHECK:         torch.aten.slice.Tensor %[[D]], %int3{{[_0-9]*}}, %int1{{[_0-9]*}}, %none
// CHECK:         %[[COL:.*]] = torch.aten.cat {{.*}} -> !torch.vtensor<[?,?,?,8],f32>
// CHECK:         %[[WT:.*]] = torch.aten.t {{.*}} -> !torch.vtensor<[8,3],f32>
// CHECK-NEXT:    %[[Y:.*]] = torch.aten.matmul %[[COL]], %[[WT]] {{.*}} -> !torch.vtensor<[?,?,?,3],f32>
// CHECK:         torch.aten.permute %[[Y]], {{.*}} -> !torch.vtensor<[?,3,?,?],f32>
// CHECK-NEXT:    func.return
