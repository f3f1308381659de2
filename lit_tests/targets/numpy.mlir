// RUN: xjit-opt %s -p torch-to-loops -t numpy | filecheck %s
// RUN: not xjit-opt %s -t numpy 2>&1 | filecheck %s --check-prefix=ERR

// `-t numpy` prints the Python source the numpy backend generates from the loops stage.

torch.global_slot "private" @linear.weight : !torch.vtensor<[4,4],f32>
torch.global_slot "private" @linear.bias : !torch.vtensor<[4],f32>
func.func @forward(%x: !torch.vtensor<[3,4],f32>, %h: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %w = torch.global_slot.get @linear.weight : !torch.vtensor<[4,4],f32>
  %b = torch.global_slot.get @linear.bias : !torch.vtensor<[4],f32>
  %0 = torch.aten.linear %x, %w, %b : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[3,4],f32>
  %int1 = torch.constant.int 1
  %1 = torch.aten.add.Tensor %0, %h, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %2 = torch.aten.tanh %1 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %2 : !torch.vtensor<[3,4],f32>
}

// CHECK:      # g_linear_weight <- @'linear.weight'
// CHECK:      def f_forward(arg0, arg1):
// CHECK:        np.dot(arg0, _g_linear_weight_T, [[BUF:buf[0-9]+]])
// CHECK-NEXT:   np.add([[BUF]], g_linear_bias, [[BUF]])
// CHECK-NEXT:   np.add([[BUF]], arg1, [[BUF]])
// CHECK-NEXT:   np.tanh([[BUF]], [[BUF]])
// CHECK-NEXT:   return ([[BUF]],)
// CHECK-NOT:  for

// ERR: error: target 'numpy': -t numpy needs loops-stage IR
