// RUN: xjit-opt %s -p torch-decompose,canonicalize,cse,convert-torch-to-linalg | filecheck %s --check-prefix=UNFUSED
// RUN: xjit-opt %s -p torch-decompose,canonicalize,cse,convert-torch-to-linalg,linalg-fuse-elementwise | filecheck %s
// RUN: xjit-opt %s -p torch-decompose,canonicalize,cse,convert-torch-to-linalg,linalg-fuse-elementwise,bufferize,convert-linalg-to-loop | filecheck %s --check-prefix=NESTS

// linalg-fuse-elementwise on the real decompositions of softmax and layer_norm (torch-decompose,
// then the linalg lowering), not on hand-written generics (those are in
// linalg-fuse-elementwise.mlir). Each op needs two reductions (softmax: max, sum of exp;
// layer_norm: sum for the mean, sum of squares for the variance) and one final elementwise
// pass: three generics, the elementwise producers fused into the reductions and the consumer.

// softmax: 5 generics before fusion (amax, sub, exp, sum, div).
// UNFUSED-LABEL:   func.func @softmax(
// UNFUSED-COUNT-5:   linalg.generic
// UNFUSED-NOT:       linalg.generic
// UNFUSED:           func.return
// After: amax; sub+exp fused into the sum, which also yields exp (not recomputed); the div.
// CHECK-LABEL:     func.func @softmax(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
// CHECK:             %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2x3xf32>)
// CHECK:               arith.maximumf
// CHECK:             %[[SUM:.*]], %[[EXP:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%x, %[[MAX]] : tensor<2x3xf32>, tensor<2x1xf32>)
// CHECK-NEXT:        ^{{.*}}(%[[A:.*]]: f32, %[[M:.*]]: f32, %[[ACC:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:          %[[D:.*]] = arith.subf %[[A]], %[[M]] : f32
// CHECK-NEXT:          %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT:          %[[S:.*]] = arith.addf %[[E]], %[[ACC]] : f32
// CHECK-NEXT:          linalg.yield %[[S]], %[[E]] : f32, f32
// CHECK:             %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[EXP]], %[[SUM]] : tensor<2x3xf32>, tensor<2x1xf32>)
// CHECK:               arith.divf
// CHECK-NOT:         linalg.generic
// CHECK:             func.return %[[R]] : tensor<2x3xf32>
// The loop nests: the two fills of the reductions' initial values, then the three generics.
// NESTS-LABEL:     func.func @softmax(
// NESTS-COUNT-5:     loop.nest
// NESTS-NOT:         loop.nest
// NESTS:             func.return
func.func @softmax(%x: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32> {
  %int-1 = torch.constant.int -1
  %none = torch.constant.none
  %0 = torch.aten.softmax.int %x, %int-1, %none : !torch.vtensor<[2,3],f32>, !torch.int, !torch.none -> !torch.vtensor<[2,3],f32>
  func.return %0 : !torch.vtensor<[2,3],f32>
}

// layer_norm: 11 generics before fusion.
// UNFUSED-LABEL:    func.func @layer_norm(
// UNFUSED-COUNT-11:   linalg.generic
// UNFUSED-NOT:        linalg.generic
// UNFUSED:            func.return
// After: the mean's sum; (x - sum/N)^2 fused into the variance's sum; one elementwise generic
// for (x - mean) * rsqrt(var/N + eps) * w + b, reading x, both sums, w and b.
// CHECK-LABEL:     func.func @layer_norm(%x: tensor<2x3xf32>, %w: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
// CHECK:             %[[S1:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2x3xf32>)
// CHECK:               arith.addf
// CHECK:             %[[S2:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%x, %[[S1]] : tensor<2x3xf32>, tensor<2x1xf32>)
// CHECK:               arith.divf
// CHECK-NEXT:          arith.subf
// CHECK-NEXT:          arith.mulf
// CHECK-NEXT:          arith.addf
// CHECK:             %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%x, %[[S1]], %[[S2]], %w, %b : tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK:               math.rsqrt
// CHECK-NOT:         linalg.generic
// CHECK:             func.return %[[R]] : tensor<2x3xf32>
// NESTS-LABEL:     func.func @layer_norm(
// NESTS-COUNT-5:     loop.nest
// NESTS-NOT:         loop.nest
// NESTS:             func.return
func.func @layer_norm(%x: !torch.vtensor<[2,3],f32>, %w: !torch.vtensor<[3],f32>, %b: !torch.vtensor<[3],f32>) -> !torch.vtensor<[2,3],f32> {
  %int3 = torch.constant.int 3
  %shape = torch.prim.ListConstruct %int3 : (!torch.int) -> !torch.list<int>
  %eps = torch.constant.float 1.0e-05
  %false = torch.constant.bool false
  %0 = torch.aten.layer_norm %x, %shape, %w, %b, %eps, %false : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32>, !torch.float, !torch.bool -> !torch.vtensor<[2,3],f32>
  func.return %0 : !torch.vtensor<[2,3],f32>
}
