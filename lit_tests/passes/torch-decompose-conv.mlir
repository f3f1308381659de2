// RUN: xjit-opt %s -p torch-decompose | filecheck %s

// aten.convolution as im2col on views (xjit/ops/conv_ops.py): one strided slice of the input
// per kernel position, moved to [C, N, *out] and concatenated along a new dim 1 ([C, K, N, *out]:
// each window a contiguous block of the columns), then one 2-D mm of the [O, C*K] weight with
// the [C*K, N*L] columns, permuted back to [N, O, *out]; the bias is added over [O, 1, 1].
func.func @conv(%x: !torch.vtensor<[1,2,4,4],f32>, %w: !torch.vtensor<[3,2,2,2],f32>, %b: !torch.vtensor<[3],f32>) -> !torch.vtensor<[1,3,2,2],f32> {
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %int0 = torch.constant.int 0
  %false = torch.constant.bool false
  %s = torch.prim.ListConstruct %int2, %int2 : (!torch.int, !torch.int) -> !torch.list<int>
  %p = torch.prim.ListConstruct %int0, %int0 : (!torch.int, !torch.int) -> !torch.list<int>
  %d = torch.prim.ListConstruct %int1, %int1 : (!torch.int, !torch.int) -> !torch.list<int>
  %0 = torch.aten.convolution %x, %w, %b, %s, %p, %d, %false, %p, %int1 : !torch.vtensor<[1,2,4,4],f32>, !torch.vtensor<[3,2,2,2],f32>, !torch.vtensor<[3],f32>, !torch.list<int>, !torch.list<int>, !torch.list<int>, !torch.bool, !torch.list<int>, !torch.int -> !torch.vtensor<[1,3,2,2],f32>
  func.return %0 : !torch.vtensor<[1,3,2,2],f32>
}

// Two slices (rows, then columns) per kernel position, 2x2 positions.
// CHECK-LABEL: func.func @conv(
// CHECK-NOT:     torch.aten.convolution
// CHECK-COUNT-8: torch.aten.slice.Tensor {{.*}} -> !torch.vtensor<[1,2,2,{{[24]}}],f32>
// CHECK-COUNT-4: torch.aten.unsqueeze {{.*}} -> !torch.vtensor<[2,1,1,2,2],f32>
// CHECK:         %[[CAT:.*]] = torch.aten.cat {{.*}} -> !torch.vtensor<[2,4,1,2,2],f32>
// CHECK:         %[[W:.*]] = torch.aten.reshape %w, {{.*}} -> !torch.vtensor<[3,8],f32>
// CHECK:         %[[COL:.*]] = torch.aten.reshape %[[CAT]], {{.*}} -> !torch.vtensor<[8,4],f32>
// CHECK-NEXT:    %[[MM:.*]] = torch.aten.mm %[[W]], %[[COL]] : {{.*}} -> !torch.vtensor<[3,4],f32>
// CHECK:         torch.aten.reshape %[[MM]], {{.*}} -> !torch.vtensor<[3,1,2,2],f32>
// CHECK:         torch.aten.permute {{.*}} -> !torch.vtensor<[1,3,2,2],f32>
// CHECK:         torch.aten.reshape %b, {{.*}} -> !torch.vtensor<[3,1,1],f32>
// CHECK:         torch.aten.add.Tensor {{.*}} -> !torch.vtensor<[1,3,2,2],f32>
// CHECK-NEXT:    func.return
