// RUN: xjit-opt %s -p torch-to-loops -t numpy | filecheck %s

// Softmax's exp + sum nest is emitted twice: exp(v) behind a check that every row max lies in
// [-16, 80 - ln(n)] (here n = 16: 80 - ln 16 = 77.227), the shifted exp(v - max) otherwise
// (backends/numpy/softmax_shift.py). The normalisation after it is shared.

func.func @softmax(%x: !torch.vtensor<[4,16],f32>) -> !torch.vtensor<[4,16],f32> {
  %dim = torch.constant.int -1
  %none = torch.constant.none
  %0 = torch.aten.softmax.int %x, %dim, %none : !torch.vtensor<[4,16],f32>, !torch.int, !torch.none -> !torch.vtensor<[4,16],f32>
  func.return %0 : !torch.vtensor<[4,16],f32>
}

// CHECK:      def f_softmax(arg0):
// CHECK:        np.maximum.reduce(arg0, axis=(1,), out=[[MAX:buf[0-9]+]][:, 0], initial=-np.inf)
// CHECK:        if rt.shift_free([[MAX]][:, 0, None], 77.227):
// CHECK-NEXT:     np.exp(arg0, [[E:buf[0-9]+]])
// CHECK-NEXT:     np.einsum("ab->a", [[E]], out=[[SUM:buf[0-9]+]][:, 0])
// CHECK-NEXT:   else:
// CHECK-NEXT:     np.subtract(arg0, [[MAX]][:, 0, None], [[E]])
// CHECK-NEXT:     np.exp([[E]], [[E]])
// CHECK-NEXT:     np.einsum("ab->a", [[E]], out=[[SUM]][:, 0])
// CHECK:        np.multiply([[E]], np.reciprocal([[SUM]][:, 0, None]), [[E]])
// CHECK-NEXT:   return ([[E]],)
