// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s

// An integer division by a run-time divisor (floor_divide, remainder, fmod, div with a
// rounding mode; int // int in script) first checks the divisor for zeros: torch raises
// ZeroDivisionError where numpy would return 0. A tensor divisor is reduced to one flag.

// CHECK-LABEL: func.func @floordiv
// CHECK:         %[[FLAG:.*]] = linalg.generic {{.*}}iterator_types = ["reduction"]} ins(%u : tensor<4xi64>) outs(%{{.*}} : tensor<i1>)
// CHECK:           %[[Z:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : i64
// CHECK-NEXT:      %[[ANY:.*]] = arith.ori %[[Z]], %{{.*}} : i1
// CHECK-NEXT:      linalg.yield %[[ANY]] : i1
// CHECK:         %[[F:.*]] = tensor.extract %[[FLAG]][] : tensor<i1>
// CHECK-NEXT:    %[[T:.*]] = arith.constant true
// CHECK-NEXT:    %[[OK:.*]] = arith.cmpi ne, %[[F]], %[[T]] : i1
// CHECK-NEXT:    cf.assert %[[OK]], "torch.aten.floor_divide: ZeroDivisionError"
// CHECK:         arith.floordivsi
// CHECK-LABEL: func.func @floordiv_int
// CHECK:         %[[OK:.*]] = arith.cmpi ne, %b, %{{.*}} : i64
// CHECK-NEXT:    cf.assert %[[OK]], "ZeroDivisionError: integer division by zero"
// CHECK-NEXT:    arith.floordivsi %a, %b : i64
// CHECK-LABEL: func.func @constant_divisor
// CHECK-NOT:     cf.assert
// CHECK:         arith.floordivsi
func.func @floordiv(%t: !torch.vtensor<[4],si64>, %u: !torch.vtensor<[4],si64>) -> !torch.vtensor<[4],si64> {
  %0 = torch.aten.floor_divide %t, %u : !torch.vtensor<[4],si64>, !torch.vtensor<[4],si64> -> !torch.vtensor<[4],si64>
  func.return %0 : !torch.vtensor<[4],si64>
}
func.func @floordiv_int(%a: !torch.int, %b: !torch.int) -> !torch.int {
  %0 = torch.aten.floordiv.int %a, %b : !torch.int, !torch.int -> !torch.int
  func.return %0 : !torch.int
}
func.func @constant_divisor(%t: !torch.vtensor<[4],si64>) -> !torch.vtensor<[4],si64> {
  %int2 = torch.constant.int 2
  %0 = torch.aten.floor_divide.Scalar %t, %int2 : !torch.vtensor<[4],si64>, !torch.int -> !torch.vtensor<[4],si64>
  func.return %0 : !torch.vtensor<[4],si64>
}
