// RUN: xjit-opt %s -p dce | filecheck %s

// Upstream `dce` on torch IR: unused pure ops (aten ops, constants, prim ops, slot reads) go,
// transitively; whatever the results need stays. Global slot declarations are symbols, not
// dead code.

// CHECK:       torch.global_slot "private" @w : !torch.vtensor<[4,4],f32>
// CHECK-NEXT:  torch.global_slot "private" @unused : !torch.vtensor<[4],f32>
torch.global_slot "private" @w : !torch.vtensor<[4,4],f32>
torch.global_slot "private" @unused : !torch.vtensor<[4],f32>

// CHECK-LABEL: func.func @dce(%x: !torch.vtensor<[3,4],f32>, %h: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
// CHECK-NEXT:    %w = torch.global_slot.get @w : !torch.vtensor<[4,4],f32>
// CHECK-NEXT:    %int1 = torch.constant.int 1
// CHECK-NEXT:    %mm = torch.aten.mm %x, %w :
// CHECK-NEXT:    %sum = torch.aten.add.Tensor %mm, %h, %int1 :
// CHECK-NEXT:    func.return %sum : !torch.vtensor<[3,4],f32>
// CHECK-NEXT:  }
func.func @dce(%x: !torch.vtensor<[3,4],f32>, %h: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %w = torch.global_slot.get @w : !torch.vtensor<[4,4],f32>
  %w_t = torch.global_slot.get @w : !torch.vtensor<[4,4],f32>
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %float = torch.constant.float 0.5
  %none = torch.constant.none
  %true = torch.constant.bool true
  %list = torch.prim.ListConstruct %int1, %int2 : (!torch.int, !torch.int) -> !torch.list<int>
  %tup = torch.prim.TupleConstruct %x, %int2 : !torch.vtensor<[3,4],f32>, !torch.int -> !torch.tuple<vtensor<[3,4],f32>, int>
  %lit = torch.vtensor.literal(dense<[1.0, 2.0]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  %mm = torch.aten.mm %x, %w : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32> -> !torch.vtensor<[3,4],f32>
  // A dead chain: t -> tanh -> mul.Scalar, and a dead linear with a none bias.
  %t = torch.aten.t %w_t : !torch.vtensor<[4,4],f32> -> !torch.vtensor<[4,4],f32>
  %th = torch.aten.tanh %t : !torch.vtensor<[4,4],f32> -> !torch.vtensor<[4,4],f32>
  %ms = torch.aten.mul.Scalar %th, %float : !torch.vtensor<[4,4],f32>, !torch.float -> !torch.vtensor<[4,4],f32>
  %lin = torch.aten.linear %x, %w, %none : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32>, !torch.none -> !torch.vtensor<[3,4],f32>
  %sum = torch.aten.add.Tensor %mm, %h, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  func.return %sum : !torch.vtensor<[3,4],f32>
}

// Everything dead: only the terminator is left.
// CHECK-LABEL: func.func @all_dead(%x: !torch.vtensor<[3,4],f32>) {
// CHECK-NEXT:    func.return
// CHECK-NEXT:  }
func.func @all_dead(%x: !torch.vtensor<[3,4],f32>) {
  %0 = torch.aten.relu %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %1 = torch.aten.sigmoid %0 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return
}
