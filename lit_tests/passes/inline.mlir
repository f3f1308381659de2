// RUN: xjit-opt %s -p inline | filecheck %s

// Calls are replaced by the callee bodies (callees first, so nested calls flatten); private
// functions no longer called are erased, public ones kept.

torch.global_slot "private" @cell.w : !torch.vtensor<[3],f32>

// CHECK-LABEL: func.func @forward(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
// CHECK-NEXT:    %{{.*}} = torch.global_slot.get @cell.w : !torch.vtensor<[3],f32>
// CHECK-NEXT:    %[[M:.*]] = torch.aten.mul.Tensor %x, %{{.*}} : !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
// CHECK-NEXT:    %[[T:.*]] = torch.aten.tanh %[[M]] : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
// CHECK-NEXT:    %[[N:.*]] = torch.aten.neg %[[T]] : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
// CHECK-NEXT:    func.return %[[N]] : !torch.vtensor<[3],f32>
// CHECK-NEXT:  }
// CHECK-NOT:   func.call
// CHECK-NOT:   @cell.forward
// CHECK-LABEL: func.func @public_helper(
func.func @forward(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = func.call @cell.forward(%x) : (!torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
  %1 = func.call @public_helper(%0) : (!torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
  func.return %1 : !torch.vtensor<[3],f32>
}
func.func private @cell.forward(%a: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %w = torch.global_slot.get @cell.w : !torch.vtensor<[3],f32>
  %0 = torch.aten.mul.Tensor %a, %w : !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %1 = func.call @cell.act.forward(%0) : (!torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
  func.return %1 : !torch.vtensor<[3],f32>
}
func.func private @cell.act.forward(%a: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.tanh %a : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
func.func @public_helper(%a: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.neg %a : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
