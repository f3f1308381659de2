// RUN: xjit-opt %s -p cse | filecheck %s

// Upstream `cse` on torch IR: constants, pure aten ops and reads of the same global slot
// (parameters are read-only during a call) are merged; differing operands, scalar arguments,
// result types or slots keep ops apart.

torch.global_slot "private" @w : !torch.vtensor<[4,4],f32>
torch.global_slot "private" @v : !torch.vtensor<[4,4],f32>

// CHECK-LABEL: func.func @cse(%x: !torch.vtensor<[3,4],f32>)
// CHECK-NEXT:    %int1 = torch.constant.int 1
// CHECK-NEXT:    %int2 = torch.constant.int 2
// CHECK-NEXT:    %float1 = torch.constant.float 1.000000e+00
// CHECK-NEXT:    %lit = torch.vtensor.literal(dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
// CHECK-NEXT:    %lit3 = torch.vtensor.literal(dense<[1.000000e+00, 3.000000e+00]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
// CHECK-NEXT:    %[[TANH:.*]] = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %[[ADD:.*]] = torch.aten.add.Tensor %[[TANH]], %x, %int1 :
// CHECK-NEXT:    %w0 = torch.global_slot.get @w : !torch.vtensor<[4,4],f32>
// CHECK-NEXT:    %v0 = torch.global_slot.get @v : !torch.vtensor<[4,4],f32>
// CHECK-NEXT:    %[[ADD2:.*]] = torch.aten.add.Tensor %[[TANH]], %x, %int2 :
// CHECK-NEXT:    %[[SWAP:.*]] = torch.aten.add.Tensor %x, %[[TANH]], %int1 :
// CHECK-NEXT:    %[[DYN:.*]] = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[?,4],f32>
// CHECK-NEXT:    %[[MULI:.*]] = torch.aten.mul.Scalar %x, %int1 :
// CHECK-NEXT:    %[[MULF:.*]] = torch.aten.mul.Scalar %x, %float1 :
// CHECK-NEXT:    func.return %[[ADD]], %[[ADD]], %[[ADD2]], %w0, %w0, %v0, %[[SWAP]], %[[TANH]], %[[DYN]], %[[MULI]], %[[MULF]], %lit, %lit, %lit3 :
func.func @cse(%x: !torch.vtensor<[3,4],f32>) -> (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[?,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[2],f32>, !torch.vtensor<[2],f32>, !torch.vtensor<[2],f32>) {
  %int1 = torch.constant.int 1
  %int1_0 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %float1 = torch.constant.float 1.0
  %float1_0 = torch.constant.float 1.0
  %lit = torch.vtensor.literal(dense<[1.0, 2.0]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  %lit2 = torch.vtensor.literal(dense<[1.0, 2.0]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  %lit3 = torch.vtensor.literal(dense<[1.0, 3.0]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  %0 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %1 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %2 = torch.aten.add.Tensor %0, %x, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  // Equal once %1 = %0 and %int1_0 = %int1.
  %3 = torch.aten.add.Tensor %1, %x, %int1_0 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %w0 = torch.global_slot.get @w : !torch.vtensor<[4,4],f32>
  %w1 = torch.global_slot.get @w : !torch.vtensor<[4,4],f32>
  %v0 = torch.global_slot.get @v : !torch.vtensor<[4,4],f32>
  // Another alpha; swapped operands; another result type; an int vs a float scalar.
  %4 = torch.aten.add.Tensor %0, %x, %int2 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %5 = torch.aten.add.Tensor %x, %0, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %6 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[?,4],f32>
  %7 = torch.aten.mul.Scalar %x, %int1 : !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %8 = torch.aten.mul.Scalar %x, %float1_0 : !torch.vtensor<[3,4],f32>, !torch.float -> !torch.vtensor<[3,4],f32>
  func.return %3, %2, %4, %w0, %w1, %v0, %5, %1, %6, %7, %8, %lit, %lit2, %lit3 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[?,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[2],f32>, !torch.vtensor<[2],f32>, !torch.vtensor<[2],f32>
}
