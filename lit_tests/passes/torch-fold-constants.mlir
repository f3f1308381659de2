// RUN: xjit-opt %s -p torch-fold-constants | filecheck %s
// RUN: xjit-opt %s -p 'torch-fold-constants{max_elements=8}' | filecheck %s --check-prefix=SMALL

// Tensor ops on constants only are computed at compile time; what the rest of the graph reads
// becomes a `torch.vtensor.literal`. Global slots (parameters, buffers) are never folded: they
// are bound by reference at run time.

torch.global_slot "private" @bias : !torch.vtensor<[4,4],f32>

// A causal mask built from sizes: ones -> tril -> eq is one boolean literal; the ops and the
// constants only they read are gone, the scale and the fill value stay.
// CHECK-LABEL: func.func @mask(
// CHECK-NEXT:    %[[MASK:.*]] = torch.vtensor.literal(dense<{{\[}}[false, true, true, true], [false, false, true, true], [false, false, false, true], [false, false, false, false]]> : tensor<4x4xi1>) : !torch.vtensor<[4,4],i1>
// CHECK-NEXT:    %[[NINF:.*]] = torch.constant.float 0xfff0000000000000
// CHECK-NEXT:    %[[R:.*]] = torch.aten.masked_fill.Scalar %x, %[[MASK]], %[[NINF]]
// CHECK-NEXT:    func.return %[[R]]
// SMALL-LABEL: func.func @mask(
// SMALL-NOT:     torch.vtensor.literal
// SMALL:         torch.aten.tril
// SMALL:         torch.aten.eq.Scalar
func.func @mask(%x: !torch.vtensor<[2,4,4],f32>) -> !torch.vtensor<[2,4,4],f32> {
  %int4 = torch.constant.int 4
  %0 = torch.prim.ListConstruct %int4, %int4 : (!torch.int, !torch.int) -> !torch.list<int>
  %none = torch.constant.none
  %1 = torch.aten.ones %0, %none : !torch.list<int>, !torch.none -> !torch.vtensor<[4,4],f32>
  %int0 = torch.constant.int 0
  %2 = torch.aten.tril %1, %int0 : !torch.vtensor<[4,4],f32>, !torch.int -> !torch.vtensor<[4,4],f32>
  %3 = torch.aten.eq.Scalar %2, %int0 : !torch.vtensor<[4,4],f32>, !torch.int -> !torch.vtensor<[4,4],i1>
  %ninf = torch.constant.float 0xfff0000000000000
  %4 = torch.aten.masked_fill.Scalar %x, %3, %ninf : !torch.vtensor<[2,4,4],f32>, !torch.vtensor<[4,4],i1>, !torch.float -> !torch.vtensor<[2,4,4],f32>
  return %4 : !torch.vtensor<[2,4,4],f32>
}

// The same mask read from a buffer: computed per call (load_state_dict and in-place updates
// of the buffer are seen by the next call).
// CHECK-LABEL: func.func @buffer_mask(
// CHECK-NEXT:    %[[B:.*]] = torch.global_slot.get @bias
// CHECK-NEXT:    %[[Z:.*]] = torch.constant.int 0
// CHECK-NEXT:    torch.aten.eq.Scalar %[[B]], %[[Z]]
func.func @buffer_mask(%x: !torch.vtensor<[4,4],f32>) -> !torch.vtensor<[4,4],f32> {
  %b = torch.global_slot.get @bias : !torch.vtensor<[4,4],f32>
  %int0 = torch.constant.int 0
  %0 = torch.aten.eq.Scalar %b, %int0 : !torch.vtensor<[4,4],f32>, !torch.int -> !torch.vtensor<[4,4],i1>
  %ninf = torch.constant.float 0xfff0000000000000
  %1 = torch.aten.masked_fill.Scalar %x, %0, %ninf : !torch.vtensor<[4,4],f32>, !torch.vtensor<[4,4],i1>, !torch.float -> !torch.vtensor<[4,4],f32>
  return %1 : !torch.vtensor<[4,4],f32>
}

// `arange(4) * 2 + 1` read by an op that is not folded: one literal. A factory read directly
// (`arange` itself) stays an op: a fill or an index expression is no dearer than a stored array.
// CHECK-LABEL: func.func @arange_chain(
// CHECK:         %[[A:.*]] = torch.aten.arange
// CHECK:         %[[L:.*]] = torch.vtensor.literal(dense<[1, 3, 5, 7]> : tensor<4xsi64>) : !torch.vtensor<[4],si64>
// CHECK-NOT:     torch.aten.mul.Scalar
// CHECK:         torch.aten.add.Tensor %x, %[[L]]
// CHECK:         torch.aten.add.Tensor %{{.*}}, %[[A]]
func.func @arange_chain(%x: !torch.vtensor<[4],si64>) -> !torch.vtensor<[4],si64> {
  %int4 = torch.constant.int 4
  %none = torch.constant.none
  %0 = torch.aten.arange %int4, %none : !torch.int, !torch.none -> !torch.vtensor<[4],si64>
  %int2 = torch.constant.int 2
  %1 = torch.aten.mul.Scalar %0, %int2 : !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[4],si64>
  %int1 = torch.constant.int 1
  %2 = torch.aten.add.Scalar %1, %int1, %int1 : !torch.vtensor<[4],si64>, !torch.int, !torch.int -> !torch.vtensor<[4],si64>
  %3 = torch.aten.add.Tensor %x, %2, %int1 : !torch.vtensor<[4],si64>, !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[4],si64>
  %4 = torch.aten.add.Tensor %3, %0, %int1 : !torch.vtensor<[4],si64>, !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[4],si64>
  return %4 : !torch.vtensor<[4],si64>
}

// A constant value returned, directly or through a view, is not made a literal: the program's
// literals are read-only arrays, and the caller may update a returned tensor in place.
// CHECK-LABEL: func.func @returned(
// CHECK-NOT:     torch.vtensor.literal
// CHECK:         torch.aten.mul.Scalar
// CHECK:         torch.aten.view
// CHECK:         func.return
func.func @returned() -> (!torch.vtensor<[4],si64>, !torch.vtensor<[2,2],si64>) {
  %int4 = torch.constant.int 4
  %none = torch.constant.none
  %0 = torch.aten.arange %int4, %none : !torch.int, !torch.none -> !torch.vtensor<[4],si64>
  %int2 = torch.constant.int 2
  %1 = torch.aten.mul.Scalar %0, %int2 : !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[4],si64>
  %s = torch.prim.ListConstruct %int2, %int2 : (!torch.int, !torch.int) -> !torch.list<int>
  %2 = torch.aten.view %1, %s : !torch.vtensor<[4],si64>, !torch.list<int> -> !torch.vtensor<[2,2],si64>
  return %1, %2 : !torch.vtensor<[4],si64>, !torch.vtensor<[2,2],si64>
}

// Random factories are not functions of their operands: never folded.
// CHECK-LABEL: func.func @random(
// CHECK:         torch.aten.rand
// CHECK:         torch.aten.mul.Scalar
func.func @random(%x: !torch.vtensor<[4],f32>) -> !torch.vtensor<[4],f32> {
  %int4 = torch.constant.int 4
  %0 = torch.prim.ListConstruct %int4 : (!torch.int) -> !torch.list<int>
  %none = torch.constant.none
  %1 = torch.aten.rand %0, %none : !torch.list<int>, !torch.none -> !torch.vtensor<[4],f32>
  %int2 = torch.constant.int 2
  %2 = torch.aten.mul.Scalar %1, %int2 : !torch.vtensor<[4],f32>, !torch.int -> !torch.vtensor<[4],f32>
  %int1 = torch.constant.int 1
  %3 = torch.aten.add.Tensor %x, %2, %int1 : !torch.vtensor<[4],f32>, !torch.vtensor<[4],f32>, !torch.int -> !torch.vtensor<[4],f32>
  return %3 : !torch.vtensor<[4],f32>
}

// A 0-d result stays 0-d: `sum(arange(4))` is the literal 6.
// CHECK-LABEL: func.func @zero_d(
// CHECK-NEXT:    %[[S:.*]] = torch.vtensor.literal(dense<6> : tensor<si64>) : !torch.vtensor<[],si64>
// CHECK-NEXT:    %[[ONE:.*]] = torch.constant.int 1
// CHECK-NEXT:    torch.aten.add.Tensor %x, %[[S]], %[[ONE]]
func.func @zero_d(%x: !torch.vtensor<[4],si64>) -> !torch.vtensor<[4],si64> {
  %int4 = torch.constant.int 4
  %none = torch.constant.none
  %0 = torch.aten.arange %int4, %none : !torch.int, !torch.none -> !torch.vtensor<[4],si64>
  %1 = torch.aten.sum %0, %none : !torch.vtensor<[4],si64>, !torch.none -> !torch.vtensor<[],si64>
  %int1 = torch.constant.int 1
  %2 = torch.aten.add.Tensor %x, %1, %int1 : !torch.vtensor<[4],si64>, !torch.vtensor<[],si64>, !torch.int -> !torch.vtensor<[4],si64>
  return %2 : !torch.vtensor<[4],si64>
}
