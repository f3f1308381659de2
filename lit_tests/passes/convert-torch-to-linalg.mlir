// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s --check-prefix=NOTORCH

// torch -> linalg on tensors (docs/contracts.md): elementwise ops become linalg.generic whose
// maps express broadcasting and whose body is the registry entry's scalar `body`; mm and t
// use linalg.matmul / linalg.transpose; slots become ml_program globals.
// NOTORCH-NOT: torch.
// NOTORCH-NOT: !torch

// CHECK: ml_program.global private @linear.weight : tensor<4x4xf32>
torch.global_slot "private" @linear.weight : !torch.vtensor<[4,4],f32>

// CHECK-LABEL: func.func @tanh(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
// CHECK-NEXT:    %[[E:.*]] = tensor.empty() : tensor<3x4xf32>
// CHECK-NEXT:    %[[R:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<3x4xf32>) outs(%[[E]] : tensor<3x4xf32>) {
// CHECK-NEXT:    ^bb0(%[[A:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[T:.*]] = math.tanh %[[A]] : f32
// CHECK-NEXT:      linalg.yield %[[T]] : f32
// CHECK-NEXT:    } -> tensor<3x4xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<3x4xf32>
func.func @tanh(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %0 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}

// [3,4] + [4]: the smaller operand aligns right.
// CHECK-LABEL: func.func @broadcast_row(%x: tensor<3x4xf32>, %y: tensor<4xf32>) -> tensor<3x4xf32> {
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<3x4xf32>, tensor<4xf32>)
// CHECK-NEXT:    ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT:      linalg.yield %[[S]] : f32
func.func @broadcast_row(%x: !torch.vtensor<[3,4],f32>, %y: !torch.vtensor<[4],f32>) -> !torch.vtensor<[3,4],f32> {
  %int1 = torch.constant.int 1
  %0 = torch.aten.add.Tensor %x, %y, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}

// [3,1] * [1,4]: a static 1 against a larger dim reads index 0.
// CHECK-LABEL: func.func @broadcast_ones(
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, 0)>, affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<3x1xf32>, tensor<1x4xf32>) outs(%{{.*}} : tensor<3x4xf32>)
// CHECK:           arith.mulf
func.func @broadcast_ones(%x: !torch.vtensor<[3,1],f32>, %y: !torch.vtensor<[1,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %0 = torch.aten.mul.Tensor %x, %y : !torch.vtensor<[3,1],f32>, !torch.vtensor<[1,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}

// alpha = 2: other * alpha in the body.
// CHECK-LABEL: func.func @alpha(
// CHECK:         ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT:      %[[M:.*]] = arith.mulf %[[B]], %[[TWO]] : f32
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[A]], %[[M]] : f32
// CHECK-NEXT:      linalg.yield %[[S]] : f32
func.func @alpha(%x: !torch.vtensor<[3,4],f32>, %y: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %int2 = torch.constant.int 2
  %0 = torch.aten.add.Tensor %x, %y, %int2 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}

// si64 -> signless i64 (signedness lives in the ops): addi.
// CHECK-LABEL: func.func @int_add(%x: tensor<3xi64>, %y: tensor<3xi64>) -> tensor<3xi64> {
// CHECK:         ^bb0(%[[A:.*]]: i64, %[[B:.*]]: i64, %{{.*}}: i64):
// CHECK-NEXT:      %[[S:.*]] = arith.addi %[[A]], %[[B]] : i64
// CHECK-NEXT:      linalg.yield %[[S]] : i64
func.func @int_add(%x: !torch.vtensor<[3],si64>, %y: !torch.vtensor<[3],si64>) -> !torch.vtensor<[3],si64> {
  %int1 = torch.constant.int 1
  %0 = torch.aten.add.Tensor %x, %y, %int1 : !torch.vtensor<[3],si64>, !torch.vtensor<[3],si64>, !torch.int -> !torch.vtensor<[3],si64>
  func.return %0 : !torch.vtensor<[3],si64>
}

// int / int computes in the default float dtype.
// CHECK-LABEL: func.func @int_div(%x: tensor<3xi64>, %y: tensor<3xi64>) -> tensor<3xf32> {
// CHECK:         ^bb0(%[[A:.*]]: i64, %[[B:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT:      %[[FA:.*]] = arith.sitofp %[[A]] : i64 to f32
// CHECK-NEXT:      %[[FB:.*]] = arith.sitofp %[[B]] : i64 to f32
// CHECK-NEXT:      %[[D:.*]] = arith.divf %[[FA]], %[[FB]] : f32
// CHECK-NEXT:      linalg.yield %[[D]] : f32
func.func @int_div(%x: !torch.vtensor<[3],si64>, %y: !torch.vtensor<[3],si64>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.div.Tensor %x, %y : !torch.vtensor<[3],si64>, !torch.vtensor<[3],si64> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// An int tensor plus a run-time float scalar computes in float too (not x + trunc(s)).
// CHECK-LABEL: func.func @int_plus_runtime_float(%x: tensor<3xi64>, %s: f64) -> tensor<3xf32> {
// CHECK:         ^bb0(%[[A:.*]]: i64, %{{.*}}: f32):
// CHECK-NEXT:      %[[FA:.*]] = arith.sitofp %[[A]] : i64 to f32
// CHECK-NEXT:      %[[FS:.*]] = arith.truncf %s : f64 to f32
// CHECK-NEXT:      %[[R:.*]] = arith.addf %[[FA]], %[[FS]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @int_plus_runtime_float(%x: !torch.vtensor<[3],si64>, %s: !torch.float) -> !torch.vtensor<[3],f32> {
  %int1 = torch.constant.int 1
  %0 = torch.aten.add.Scalar %x, %s, %int1 : !torch.vtensor<[3],si64>, !torch.float, !torch.int -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// CHECK-LABEL: func.func @relu(
// CHECK:         ^bb0(%[[A:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:      %[[R:.*]] = arith.maximumf %[[A]], %[[Z]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @relu(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.relu %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// sigmoid(x) = 1 / (exp(-x) + 1)
// CHECK-LABEL: func.func @sigmoid(
// CHECK:         ^bb0(%[[A:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      %[[N:.*]] = arith.negf %[[A]] : f32
// CHECK-NEXT:      %[[E:.*]] = math.exp %[[N]] : f32
// CHECK-NEXT:      %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:      %[[D:.*]] = arith.addf %[[E]], %[[ONE]] : f32
// CHECK-NEXT:      %[[ONE2:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT:      %[[R:.*]] = arith.divf %[[ONE2]], %[[D]] : f32
// CHECK-NEXT:      linalg.yield %[[R]] : f32
func.func @sigmoid(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.aten.sigmoid %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// CHECK-LABEL: func.func @mm(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) -> tensor<3x5xf32> {
// CHECK-NEXT:    %[[E:.*]] = tensor.empty() : tensor<3x5xf32>
// CHECK-NEXT:    %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %[[F:.*]] = linalg.fill ins(%[[Z]] : f32) outs(%[[E]] : tensor<3x5xf32>) -> tensor<3x5xf32>
// CHECK-NEXT:    %[[M:.*]] = linalg.matmul ins(%a, %b : tensor<3x4xf32>, tensor<4x5xf32>) outs(%[[F]] : tensor<3x5xf32>) -> tensor<3x5xf32>
// CHECK-NEXT:    func.return %[[M]] : tensor<3x5xf32>
func.func @mm(%a: !torch.vtensor<[3,4],f32>, %b: !torch.vtensor<[4,5],f32>) -> !torch.vtensor<[3,5],f32> {
  %0 = torch.aten.mm %a, %b : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
  func.return %0 : !torch.vtensor<[3,5],f32>
}

// CHECK-LABEL: func.func @t(%a: tensor<3x4xf32>) -> tensor<4x3xf32> {
// CHECK-NEXT:    %[[E:.*]] = tensor.empty() : tensor<4x3xf32>
// CHECK-NEXT:    %[[T:.*]] = linalg.transpose ins(%a:tensor<3x4xf32>) outs(%[[E]]:tensor<4x3xf32>) permutation = [1, 0]
// CHECK-NEXT:    func.return %[[T]] : tensor<4x3xf32>
func.func @t(%a: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[4,3],f32> {
  %0 = torch.aten.t %a : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[4,3],f32>
  func.return %0 : !torch.vtensor<[4,3],f32>
}

// A dynamic dim is read off the operand that has it (here the second one: the first is a 1).
// CHECK-LABEL: func.func @dynamic(%x: tensor<1x4xf32>, %y: tensor<?x4xf32>) -> tensor<?x4xf32> {
// CHECK-NEXT:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[N:.*]] = tensor.dim %y, %[[C0]] : tensor<?x4xf32>
// CHECK-NEXT:    %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?x4xf32>
// CHECK-NEXT:    %[[R:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<1x4xf32>, tensor<?x4xf32>) outs(%[[E]] : tensor<?x4xf32>) {
// CHECK:         func.return %[[R]] : tensor<?x4xf32>
func.func @dynamic(%x: !torch.vtensor<[1,4],f32>, %y: !torch.vtensor<[?,4],f32>) -> !torch.vtensor<[?,4],f32> {
  %0 = torch.aten.mul.Tensor %x, %y : !torch.vtensor<[1,4],f32>, !torch.vtensor<[?,4],f32> -> !torch.vtensor<[?,4],f32>
  func.return %0 : !torch.vtensor<[?,4],f32>
}

// CHECK-LABEL: func.func @mm_dynamic(%a: tensor<?x4xf32>, %b: tensor<4x?xf32>) -> tensor<?x?xf32> {
// CHECK-NEXT:    %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[M:.*]] = tensor.dim %a, %[[C0]] : tensor<?x4xf32>
// CHECK-NEXT:    %[[C1:.*]] = arith.constant 1 : index
// CHECK-NEXT:    %[[N:.*]] = tensor.dim %b, %[[C1]] : tensor<4x?xf32>
// CHECK-NEXT:    %[[E:.*]] = tensor.empty(%[[M]], %[[N]]) : tensor<?x?xf32>
// CHECK:         linalg.matmul ins(%a, %b : tensor<?x4xf32>, tensor<4x?xf32>)
func.func @mm_dynamic(%a: !torch.vtensor<[?,4],f32>, %b: !torch.vtensor<[4,?],f32>) -> !torch.vtensor<[?,?],f32> {
  %0 = torch.aten.mm %a, %b : !torch.vtensor<[?,4],f32>, !torch.vtensor<[4,?],f32> -> !torch.vtensor<[?,?],f32>
  func.return %0 : !torch.vtensor<[?,?],f32>
}

// CHECK-LABEL: func.func @param(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
// CHECK-NEXT:    %[[W:.*]] = ml_program.global_load_const @linear.weight : tensor<4x4xf32>
// CHECK:         linalg.matmul ins(%x, %[[W]] : tensor<3x4xf32>, tensor<4x4xf32>)
func.func @param(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %w = torch.global_slot.get @linear.weight : !torch.vtensor<[4,4],f32>
  %0 = torch.aten.mm %x, %w : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %0 : !torch.vtensor<[3,4],f32>
}

// Reductions: a linalg.fill of the neutral element, then a generic whose reduced dims are
// "reduction" iterators. keepdim keeps the reduced dim as size 1 (indexed by the constant 0);
// a negative dim counts from the end (-1 of a 2-D tensor is d1).
// CHECK-LABEL: func.func @sum_dim_keepdim(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<2x1xf32>
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:    %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<2x1xf32>) -> tensor<2x1xf32>
// CHECK-NEXT:    %[[R:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, 0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<2x3xf32>) outs(%[[INIT]] : tensor<2x1xf32>) {
// CHECK-NEXT:    ^{{.*}}(%[[IN:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT:      %[[S:.*]] = arith.addf %[[IN]], %[[ACC]] : f32
// CHECK-NEXT:      linalg.yield %[[S]] : f32
// CHECK-NEXT:    } -> tensor<2x1xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<2x1xf32>
func.func @sum_dim_keepdim(%x: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,1],f32> {
  %int-1 = torch.constant.int -1
  %dims = torch.prim.ListConstruct %int-1 : (!torch.int) -> !torch.list<int>
  %true = torch.constant.bool true
  %none = torch.constant.none
  %0 = torch.aten.sum.dim_IntList %x, %dims, %true, %none : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.bool, !torch.none -> !torch.vtensor<[2,1],f32>
  func.return %0 : !torch.vtensor<[2,1],f32>
}

// amax over dim 0 without keepdim: the max starts at -inf, d0 is the reduction iterator.
// CHECK-LABEL: func.func @amax_dim0(%x: tensor<2x3xf32>) -> tensor<3xf32> {
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<3xf32>
// CHECK-NEXT:    %[[NINF:.*]] = arith.constant 0xff800000 : f32
// CHECK-NEXT:    %[[INIT:.*]] = linalg.fill ins(%[[NINF]] : f32) outs(%[[E]] : tensor<3xf32>) -> tensor<3xf32>
// CHECK-NEXT:    %[[R:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>], iterator_types = ["reduction", "parallel"]} ins(%x : tensor<2x3xf32>) outs(%[[INIT]] : tensor<3xf32>) {
// CHECK-NEXT:    ^{{.*}}(%[[IN:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT:      %[[M:.*]] = arith.maximumf %[[IN]], %[[ACC]] : f32
// CHECK-NEXT:      linalg.yield %[[M]] : f32
// CHECK-NEXT:    } -> tensor<3xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<3xf32>
func.func @amax_dim0(%x: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[3],f32> {
  %int0 = torch.constant.int 0
  %dims = torch.prim.ListConstruct %int0 : (!torch.int) -> !torch.list<int>
  %false = torch.constant.bool false
  %0 = torch.aten.amax %x, %dims, %false : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.bool -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// A full sum: every dim a reduction, a rank-0 result.
// CHECK-LABEL: func.func @sum_all(%x: tensor<2x3xf32>) -> tensor<f32> {
// CHECK:         linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%x : tensor<2x3xf32>)
// CHECK:           arith.addf
func.func @sum_all(%x: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[],f32> {
  %none = torch.constant.none
  %0 = torch.aten.sum %x, %none : !torch.vtensor<[2,3],f32>, !torch.none -> !torch.vtensor<[],f32>
  func.return %0 : !torch.vtensor<[],f32>
}
