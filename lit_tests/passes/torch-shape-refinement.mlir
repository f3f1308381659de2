// RUN: xjit-opt %s -p torch-shape-refinement | filecheck %s

// Static types flow from the arguments through aten ops (their registry shape rules), casts,
// both branches of prim.If and the carried values of prim.Loop (to a fixpoint); the function's
// result types follow. Casts between equal types disappear.

// CHECK-LABEL: func.func @gate(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
// CHECK-NEXT:    %none = torch.constant.none
// CHECK-NEXT:    %0 = torch.aten.sum %x, %none : !torch.vtensor<[3,4],f32>, !torch.none -> !torch.vtensor<[],f32>
// CHECK:         %1 = torch.aten.gt.Scalar %0, %int0 : !torch.vtensor<[],f32>, !torch.int -> !torch.vtensor<[],i1>
// CHECK:         %3 = torch.prim.If %2 -> (!torch.vtensor<[3,4],f32>) {
// CHECK-NEXT:      torch.prim.If.yield %x : !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %4 = torch.aten.neg %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:      torch.prim.If.yield %4 : !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %3 : !torch.vtensor<[3,4],f32>
func.func @gate(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor {
  %c = torch.tensor_static_info_cast %x : !torch.vtensor<[3,4],f32> to !torch.vtensor
  %none = torch.constant.none
  %0 = torch.aten.sum %c, %none : !torch.vtensor, !torch.none -> !torch.vtensor
  %int0 = torch.constant.int 0
  %1 = torch.aten.gt.Scalar %0, %int0 : !torch.vtensor, !torch.int -> !torch.vtensor
  %2 = torch.aten.Bool.Tensor %1 : !torch.vtensor -> !torch.bool
  %3 = torch.prim.If %2 -> (!torch.vtensor) {
    torch.prim.If.yield %c : !torch.vtensor
  } else {
    %4 = torch.aten.neg %c : !torch.vtensor -> !torch.vtensor
    torch.prim.If.yield %4 : !torch.vtensor
  }
  func.return %3 : !torch.vtensor
}

// Branches of different shapes join to a dynamic dim, with casts where the yields are more precise.
// CHECK-LABEL: func.func @join(
// CHECK-SAME:    -> !torch.vtensor<[?],f32> {
// CHECK:         torch.prim.If %c -> (!torch.vtensor<[?],f32>) {
// CHECK-NEXT:      %[[A:.*]] = torch.tensor_static_info_cast %a : !torch.vtensor<[3],f32> to !torch.vtensor<[?],f32>
// CHECK-NEXT:      torch.prim.If.yield %[[A]] : !torch.vtensor<[?],f32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[B:.*]] = torch.tensor_static_info_cast %b : !torch.vtensor<[5],f32> to !torch.vtensor<[?],f32>
// CHECK:         func.return %0 : !torch.vtensor<[?],f32>
func.func @join(%c: !torch.bool, %a: !torch.vtensor<[3],f32>, %b: !torch.vtensor<[5],f32>) -> !torch.vtensor {
  %ca = torch.tensor_static_info_cast %a : !torch.vtensor<[3],f32> to !torch.vtensor
  %cb = torch.tensor_static_info_cast %b : !torch.vtensor<[5],f32> to !torch.vtensor
  %0 = torch.prim.If %c -> (!torch.vtensor) {
    torch.prim.If.yield %ca : !torch.vtensor
  } else {
    torch.prim.If.yield %cb : !torch.vtensor
  }
  func.return %0 : !torch.vtensor
}

// A loop whose carried value keeps its shape: the body and the result become static.
// CHECK-LABEL: func.func @loop(
// CHECK:         %{{.*}} = torch.prim.Loop %n, %true, init(%h) {
// CHECK-NEXT:    ^bb0(%i: !torch.int, %hi: !torch.vtensor<[3,4],f32>):
// CHECK-NEXT:      %{{.*}} = torch.aten.tanh %hi : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK:         } : (!torch.int, !torch.bool, !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32>
func.func @loop(%h: !torch.vtensor<[3,4],f32>, %n: !torch.int) -> !torch.vtensor {
  %true = torch.constant.bool true
  %c = torch.tensor_static_info_cast %h : !torch.vtensor<[3,4],f32> to !torch.vtensor
  %0 = torch.prim.Loop %n, %true, init(%c) {
  ^bb0(%i: !torch.int, %hi: !torch.vtensor):
    %1 = torch.aten.tanh %hi : !torch.vtensor -> !torch.vtensor
    torch.prim.Loop.condition %true, iter(%1 : !torch.vtensor)
  } : (!torch.int, !torch.bool, !torch.vtensor) -> !torch.vtensor
  func.return %0 : !torch.vtensor
}

// A size read off a value refined in this pass is evaluated through size.int's fold (the op
// itself stays for canonicalize), so the reshape keeps its rank: [2, 12], and the next [2, 12].
// CHECK-LABEL: func.func @reshape_by_size(%x: !torch.vtensor<[2,3,4],f32>) -> !torch.vtensor<[2,12],f32> {
// CHECK:         %y = torch.aten.reshape %x, %{{.*}} : !torch.vtensor<[2,3,4],f32>, !torch.list<int> -> !torch.vtensor<[2,12],f32>
// CHECK:         %n = torch.aten.size.int %y, %int0 : !torch.vtensor<[2,12],f32>, !torch.int -> !torch.int
// CHECK:         %z = torch.aten.reshape %y, %{{.*}} : !torch.vtensor<[2,12],f32>, !torch.list<int> -> !torch.vtensor<[2,12],f32>
func.func @reshape_by_size(%x: !torch.vtensor<[2,3,4],f32>) -> !torch.vtensor {
  %c = torch.tensor_static_info_cast %x : !torch.vtensor<[2,3,4],f32> to !torch.vtensor
  %int0 = torch.constant.int 0
  %intm1 = torch.constant.int -1
  %m = torch.aten.size.int %c, %int0 : !torch.vtensor, !torch.int -> !torch.int
  %l = torch.prim.ListConstruct %m, %intm1 : (!torch.int, !torch.int) -> !torch.list<int>
  %y = torch.aten.reshape %c, %l : !torch.vtensor, !torch.list<int> -> !torch.vtensor
  %n = torch.aten.size.int %y, %int0 : !torch.vtensor, !torch.int -> !torch.int
  %l2 = torch.prim.ListConstruct %n, %intm1 : (!torch.int, !torch.int) -> !torch.list<int>
  %z = torch.aten.reshape %y, %l2 : !torch.vtensor, !torch.list<int> -> !torch.vtensor
  func.return %z : !torch.vtensor
}
