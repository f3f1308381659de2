// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p convert-torch-to-linalg | xjit-opt | filecheck %s

// Float fmod/remainder/floor_divide lower through MLIR's exact arith.remf (an op xDSL 0.74
// lacks, loaded by xjit: it parses back too, second RUN line). remainder adds the divisor
// where the signs of the divisor and the nonzero fmod differ (Python's `%`).
// CHECK-LABEL: func.func @fmod
// CHECK:         linalg.generic
// CHECK-NEXT:    ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[R:.*]] = arith.remf %[[X]], %[[Y]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @fmod(%x: !torch.vtensor<[3],f32>, %y: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.fmod.Tensor %x, %y : !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// CHECK-LABEL: func.func @remainder
// CHECK:         ^bb0(%[[X:.*]]: f64, %[[Y:.*]]: f64, %{{.*}}: f64):
// CHECK-NEXT:      %[[M:.*]] = arith.remf %[[X]], %[[Y]] : f64
// CHECK:           %[[FIX:.*]] = arith.andi
// CHECK-NEXT:      %[[ADD:.*]] = arith.addf %[[M]], %[[Y]] : f64
// CHECK-NEXT:      %[[OUT:.*]] = arith.select %[[FIX]], %[[ADD]], %[[M]] : f64
// CHECK-NEXT:      linalg.yield %[[OUT]] : f64
func.func @remainder(%x: !torch.vtensor<[3],f64>, %y: !torch.vtensor<[3],f64>) -> !torch.vtensor<[3],f64> {
  %0 = torch.aten.remainder.Tensor %x, %y : !torch.vtensor<[3],f64>, !torch.vtensor<[3],f64> -> !torch.vtensor<[3],f64>
  func.return %0 : !torch.vtensor<[3],f64>
}

// CHECK-LABEL: func.func @floor_divide
// CHECK:         arith.divf
// CHECK:         arith.remf
// CHECK:         math.floor
// CHECK:         math.copysign
func.func @floor_divide(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %float = torch.constant.float -1.500000e+00
  %0 = torch.aten.floor_divide.Scalar %x, %float : !torch.vtensor<[3],f32>, !torch.float -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
