// RUN: xjit-opt %s -p torch-to-loops | filecheck %s
// RUN: xjit-opt %s -p torch-to-loops | filecheck %s --check-prefix=CLEAN

// The whole pipeline on the TorchScript tutorial's MyCell (tanh(linear(x) + h), as traced):
// torch -> decomposed -> linalg on tensors -> buffers -> loop nests.

// Nothing of the earlier stages survives.
// CLEAN-NOT: torch.
// CLEAN-NOT: linalg.
// CLEAN-NOT: tensor.
// CLEAN-NOT: tensor<
// CLEAN-NOT: ml_program.

// Parameters: uninitialised constant globals bound at run time, read with memref.get_global.
// CHECK:       "memref.global"() <{sym_name = "linear.weight", type = memref<4x4xf32>, initial_value, sym_visibility = "private", constant}> : () -> ()
// CHECK-NEXT:  "memref.global"() <{sym_name = "linear.bias", type = memref<4xf32>, initial_value, sym_visibility = "private", constant}> : () -> ()
// CHECK-LABEL: func.func @forward(%x: memref<3x4xf32>, %h: memref<3x4xf32>) -> memref<3x4xf32> {
// CHECK-DAG:     %[[W:.*]] = memref.get_global @linear.weight : memref<4x4xf32>
// CHECK-DAG:     %[[B:.*]] = memref.get_global @linear.bias : memref<4xf32>
// t(weight): a copy through a transposed read.
// CHECK:         loop.nest (%{{.*}}, %{{.*}}) to (%c4, %c4) ["parallel", "parallel"] {
// CHECK-NEXT:      loop.load %[[W]][%{{.*}}, %{{.*}}] affine_map<(d0, d1) -> (d1, d0)> : memref<4x4xf32>
// The mm: zero-fill, then a nest with a reduction dim.
// CHECK:         loop.nest (%{{.*}}, %{{.*}}) to (%c3, %c4) ["parallel", "parallel"] {
// CHECK-NEXT:      loop.store %{{.*}}, %[[ACC:.*]][%{{.*}}, %{{.*}}] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
// CHECK:         loop.nest (%{{.*}}, %{{.*}}, %{{.*}}) to (%c3, %c4, %c4) ["parallel", "parallel", "reduction"] {
// CHECK-NEXT:      %[[A:.*]] = loop.load %x[{{.*}}] affine_map<(d0, d1, d2) -> (d0, d2)> : memref<3x4xf32>
// CHECK-NEXT:      %[[BT:.*]] = loop.load %{{.*}}[{{.*}}] affine_map<(d0, d1, d2) -> (d2, d1)> : memref<4x4xf32>
// CHECK-NEXT:      %[[C:.*]] = loop.load %[[ACC]][{{.*}}] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<3x4xf32>
// CHECK-NEXT:      %[[P:.*]] = arith.mulf %[[A]], %[[BT]] : f32
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[P]], %[[C]] : f32
// CHECK-NEXT:      loop.store %[[S]], %[[ACC]][{{.*}}] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<3x4xf32>
// CHECK-NEXT:    }
// + bias (a broadcast row), + h and tanh: elementwise nests (however many: fusion may merge
// them), the last one computing tanh and storing into the returned buffer.
// CHECK:         loop.nest (%{{.*}}, %{{.*}}) to (%c3, %c4) ["parallel", "parallel"] {
// CHECK:           loop.load %[[B]][{{.*}}] affine_map<(d0, d1) -> (d1)> : memref<4xf32>
// CHECK:           loop.load %h[
// CHECK:           arith.addf
// CHECK:           %[[T:.*]] = math.tanh %{{.*}} : f32
// CHECK-NEXT:      loop.store %[[T]], %[[OUT:.*]][{{.*}}] affine_map<(d0, d1) -> (d0, d1)> : memref<3x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %[[OUT]] : memref<3x4xf32>

torch.global_slot "private" @linear.weight : !torch.vtensor<[4,4],f32>
torch.global_slot "private" @linear.bias : !torch.vtensor<[4],f32>
func.func @forward(%x: !torch.vtensor<[3,4],f32>, %h: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %linear_weight = torch.global_slot.get @linear.weight : !torch.vtensor<[4,4],f32>
  %linear_bias = torch.global_slot.get @linear.bias : !torch.vtensor<[4],f32>
  %0 = torch.aten.linear %x, %linear_weight, %linear_bias : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[3,4],f32>
  %int1 = torch.constant.int 1
  %1 = torch.aten.add.Tensor %0, %h, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %2 = torch.aten.tanh %1 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %2 : !torch.vtensor<[3,4],f32>
}
