// RUN: xjit-opt %s -p torch-decompose | filecheck %s
// RUN: xjit-opt %s -p 'torch-decompose{ops="torch.aten.linear"}' | filecheck %s --check-prefix=ONLY
// RUN: xjit-opt %s -p 'torch-decompose{ops="torch.aten.addmm","torch.aten.matmul"}' | filecheck %s --check-prefix=TWO
// RUN: not xjit-opt %s -p 'torch-decompose{ops="linear"}' 2>&1 | filecheck %s --check-prefix=BADNAME
// RUN: not xjit-opt %s -p 'torch-decompose{ops=torch.aten.linear}' 2>&1 | filecheck %s --check-prefix=UNQUOTED

// Composite ops rewritten by their registry entry's `decompose` (written against torch's
// Python API). `ops=` restricts the pass to some ops; xDSL's pipeline syntax needs the dotted
// names quoted, and an op that cannot be decomposed is an error, not a silent no-op.

// BADNAME: xjit-opt: error: invalid options for pass 'torch-decompose': ops linear cannot be decomposed; decomposable ops: {{.*}}torch.aten.addmm, {{.*}}torch.aten.linear, {{.*}}torch.aten.matmul
// UNQUOTED: xjit-opt: error: invalid pass pipeline: Unknown token

// linear(x, w, b) = mm(x, t(w)) + b; without a bias, just the mm.
// CHECK-LABEL: func.func @linear(
// CHECK-NEXT:    %none = torch.constant.none
// CHECK-NEXT:    %[[WT:.*]] = torch.aten.t %w : !torch.vtensor<[5,4],f32> -> !torch.vtensor<[4,5],f32>
// CHECK-NEXT:    %[[MM:.*]] = torch.aten.mm %x, %[[WT]] : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %[[ONE:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[ADD:.*]] = torch.aten.add.Tensor %[[MM]], %b, %[[ONE]] : !torch.vtensor<[3,5],f32>, !torch.vtensor<[5],f32>, !torch.int -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %[[WT2:.*]] = torch.aten.t %w : !torch.vtensor<[5,4],f32> -> !torch.vtensor<[4,5],f32>
// CHECK-NEXT:    %[[MM2:.*]] = torch.aten.mm %x, %[[WT2]] : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    func.return %[[ADD]], %[[MM2]] : !torch.vtensor<[3,5],f32>, !torch.vtensor<[3,5],f32>
// ONLY-LABEL:  func.func @linear(
// ONLY-NOT:      torch.aten.linear
// ONLY:          func.return
// TWO-LABEL:   func.func @linear(
// TWO:           torch.aten.linear %x, %w, %b
// TWO:           torch.aten.linear %x, %w, %none
func.func @linear(%x: !torch.vtensor<[3,4],f32>, %w: !torch.vtensor<[5,4],f32>, %b: !torch.vtensor<[5],f32>) -> (!torch.vtensor<[3,5],f32>, !torch.vtensor<[3,5],f32>) {
  %none = torch.constant.none
  %0 = torch.aten.linear %x, %w, %b : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.vtensor<[5],f32> -> !torch.vtensor<[3,5],f32>
  %1 = torch.aten.linear %x, %w, %none : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.none -> !torch.vtensor<[3,5],f32>
  func.return %0, %1 : !torch.vtensor<[3,5],f32>, !torch.vtensor<[3,5],f32>
}

// addmm(s, a, m, beta, alpha) = alpha * mm(a, m) + beta * s; unit factors are not multiplied.
// CHECK-LABEL: func.func @addmm(
// CHECK:         %float = torch.constant.float 5.000000e-01
// CHECK-NEXT:    %[[P:.*]] = torch.aten.mm %a, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %[[ONE:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[R1:.*]] = torch.aten.add.Tensor %[[P]], %s, %[[ONE]] : !torch.vtensor<[3,5],f32>, !torch.vtensor<[5],f32>, !torch.int -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %[[P2:.*]] = torch.aten.mm %a, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %[[ALPHA:.*]] = torch.constant.int 2
// CHECK-NEXT:    %[[SP:.*]] = torch.aten.mul.Scalar %[[P2]], %[[ALPHA]] : !torch.vtensor<[3,5],f32>, !torch.int -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %[[BETA:.*]] = torch.constant.float 5.000000e-01
// CHECK-NEXT:    %[[SS:.*]] = torch.aten.mul.Scalar %s, %[[BETA]] : !torch.vtensor<[5],f32>, !torch.float -> !torch.vtensor<[5],f32>
// CHECK-NEXT:    %[[ONE2:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[R2:.*]] = torch.aten.add.Tensor %[[SP]], %[[SS]], %[[ONE2]] : !torch.vtensor<[3,5],f32>, !torch.vtensor<[5],f32>, !torch.int -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    func.return %[[R1]], %[[R2]] :
// ONLY-LABEL:  func.func @addmm(
// ONLY:          torch.aten.addmm %s, %a, %m, %int1, %int1
// ONLY:          torch.aten.addmm %s, %a, %m, %float, %int2
// TWO-LABEL:   func.func @addmm(
// TWO-NOT:       torch.aten.addmm
// TWO:           func.return
func.func @addmm(%s: !torch.vtensor<[5],f32>, %a: !torch.vtensor<[3,4],f32>, %m: !torch.vtensor<[4,5],f32>) -> (!torch.vtensor<[3,5],f32>, !torch.vtensor<[3,5],f32>) {
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %float = torch.constant.float 0.5
  %0 = torch.aten.addmm %s, %a, %m, %int1, %int1 : !torch.vtensor<[5],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,5],f32>
  %1 = torch.aten.addmm %s, %a, %m, %float, %int2 : !torch.vtensor<[5],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,5],f32>
  func.return %0, %1 : !torch.vtensor<[3,5],f32>, !torch.vtensor<[3,5],f32>
}

// A scalar only known at run time: the decomposition needs constants, the op stays.
// CHECK-LABEL: func.func @addmm_runtime_alpha(
// CHECK-NEXT:    %[[R:.*]] = torch.aten.addmm %s, %a, %m, %n, %n :
// CHECK-NEXT:    func.return %[[R]]
func.func @addmm_runtime_alpha(%s: !torch.vtensor<[3,5],f32>, %a: !torch.vtensor<[3,4],f32>, %m: !torch.vtensor<[4,5],f32>, %n: !torch.int) -> !torch.vtensor<[3,5],f32> {
  %0 = torch.aten.addmm %s, %a, %m, %n, %n : !torch.vtensor<[3,5],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,5],f32>
  func.return %0 : !torch.vtensor<[3,5],f32>
}

// matmul of two 2-D tensors is mm.
// CHECK-LABEL: func.func @matmul(
// CHECK-NEXT:    %[[R:.*]] = torch.aten.mm %a, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    func.return %[[R]] : !torch.vtensor<[3,5],f32>
// ONLY-LABEL:  func.func @matmul(
// ONLY-NEXT:     torch.aten.matmul %a, %m
// TWO-LABEL:   func.func @matmul(
// TWO-NEXT:      torch.aten.mm %a, %m
func.func @matmul(%a: !torch.vtensor<[3,4],f32>, %m: !torch.vtensor<[4,5],f32>) -> !torch.vtensor<[3,5],f32> {
  %0 = torch.aten.matmul %a, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
  func.return %0 : !torch.vtensor<[3,5],f32>
}

// Ops without a decomposition are left alone.
// CHECK-LABEL: func.func @others(
// CHECK-NEXT:    %[[T:.*]] = torch.aten.t %w :
// CHECK-NEXT:    %[[R:.*]] = torch.aten.mm %a, %[[T]] :
// CHECK-NEXT:    func.return %[[R]]
func.func @others(%a: !torch.vtensor<[3,4],f32>, %w: !torch.vtensor<[5,4],f32>) -> !torch.vtensor<[3,5],f32> {
  %0 = torch.aten.t %w : !torch.vtensor<[5,4],f32> -> !torch.vtensor<[4,5],f32>
  %1 = torch.aten.mm %a, %0 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
  func.return %1 : !torch.vtensor<[3,5],f32>
}

// softmax(x, dim) = exp(x - amax(x, dim, keepdim)) / sum(.., dim, keepdim): the max is
// subtracted for stability, both reductions keep the dim so the sub and the div broadcast.
// A negative dim is normalised (-1 of a 2-D tensor is 1).
// CHECK-LABEL: func.func @softmax(
// CHECK-NOT:     torch.aten.softmax.int
// CHECK:         %[[D:.*]] = torch.prim.ListConstruct %{{.*}} : (!torch.int) -> !torch.list<int>
// CHECK-NEXT:    %[[K:.*]] = torch.constant.bool true
// CHECK-NEXT:    %[[MAX:.*]] = torch.aten.amax %x, %[[D]], %[[K]] : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.bool -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[ONE:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[SUB:.*]] = torch.aten.sub.Tensor %x, %[[MAX]], %[[ONE]] : !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,1],f32>, !torch.int -> !torch.vtensor<[2,3],f32>
// CHECK-NEXT:    %[[EXP:.*]] = torch.aten.exp %[[SUB]] : !torch.vtensor<[2,3],f32> -> !torch.vtensor<[2,3],f32>
// CHECK-NEXT:    %[[DIM2:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[D2:.*]] = torch.prim.ListConstruct %[[DIM2]] : (!torch.int) -> !torch.list<int>
// CHECK-NEXT:    %[[K2:.*]] = torch.constant.bool true
// CHECK-NEXT:    %[[NONE:.*]] = torch.constant.none
// CHECK-NEXT:    %[[SUM:.*]] = torch.aten.sum.dim_IntList %[[EXP]], %[[D2]], %[[K2]], %[[NONE]] : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.bool, !torch.none -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[DIV:.*]] = torch.aten.div.Tensor %[[EXP]], %[[SUM]] : !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,1],f32> -> !torch.vtensor<[2,3],f32>
// CHECK-NEXT:    func.return %[[DIV]] : !torch.vtensor<[2,3],f32>
// ONLY-LABEL:  func.func @softmax(
// ONLY-NEXT:     %int-1 = torch.constant.int -1
// ONLY-NEXT:     %none = torch.constant.none
// ONLY-NEXT:     torch.aten.softmax.int %x, %int-1, %none
func.func @softmax(%x: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[2,3],f32> {
  %int-1 = torch.constant.int -1
  %none = torch.constant.none
  %0 = torch.aten.softmax.int %x, %int-1, %none : !torch.vtensor<[2,3],f32>, !torch.int, !torch.none -> !torch.vtensor<[2,3],f32>
  func.return %0 : !torch.vtensor<[2,3],f32>
}

// layer_norm over the last dim: mean = sum/N, var = sum((x-mean)^2)/N (biased),
// (x - mean) * rsqrt(var + eps) * w + b. The mean and var decompositions apply in turn.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-NOT:     torch.aten.layer_norm
// CHECK:         %[[S1:.*]] = torch.aten.sum.dim_IntList %x, %{{.*}}, %{{.*}}, %{{.*}} : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.bool, !torch.none -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[N1:.*]] = torch.constant.int 3
// CHECK-NEXT:    %[[MEAN:.*]] = torch.aten.div.Scalar %[[S1]], %[[N1]] : !torch.vtensor<[2,1],f32>, !torch.int -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[ONE:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[XC:.*]] = torch.aten.sub.Tensor %x, %[[MEAN]], %[[ONE]] : !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,1],f32>, !torch.int -> !torch.vtensor<[2,3],f32>
// CHECK-NEXT:    %[[SQ:.*]] = torch.aten.mul.Tensor %[[XC]], %[[XC]] : !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,3],f32> -> !torch.vtensor<[2,3],f32>
// CHECK:         %[[S2:.*]] = torch.aten.sum.dim_IntList %[[SQ]], %{{.*}}, %{{.*}}, %{{.*}} : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.bool, !torch.none -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[N2:.*]] = torch.constant.int 3
// CHECK-NEXT:    %[[VAR:.*]] = torch.aten.div.Scalar %[[S2]], %[[N2]] : !torch.vtensor<[2,1],f32>, !torch.int -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[EPS:.*]] = torch.constant.float 1.000000e-05
// CHECK-NEXT:    %[[ONE2:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[VE:.*]] = torch.aten.add.Scalar %[[VAR]], %[[EPS]], %[[ONE2]] : !torch.vtensor<[2,1],f32>, !torch.float, !torch.int -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[RS:.*]] = torch.aten.rsqrt %[[VE]] : !torch.vtensor<[2,1],f32> -> !torch.vtensor<[2,1],f32>
// CHECK-NEXT:    %[[NORM:.*]] = torch.aten.mul.Tensor %[[XC]], %[[RS]] : !torch.vtensor<[2,3],f32>, !torch.vtensor<[2,1],f32> -> !torch.vtensor<[2,3],f32>
// CHECK-NEXT:    %[[SC:.*]] = torch.aten.mul.Tensor %[[NORM]], %w : !torch.vtensor<[2,3],f32>, !torch.vtensor<[3],f32> -> !torch.vtensor<[2,3],f32>
// CHECK-NEXT:    %[[ONE3:.*]] = torch.constant.int 1
// CHECK-NEXT:    %[[R:.*]] = torch.aten.add.Tensor %[[SC]], %b, %[[ONE3]] : !torch.vtensor<[2,3],f32>, !torch.vtensor<[3],f32>, !torch.int -> !torch.vtensor<[2,3],f32>
// CHECK-NEXT:    func.return %[[R]] : !torch.vtensor<[2,3],f32>
// ONLY-LABEL:  func.func @layer_norm(
// ONLY:          torch.aten.layer_norm %x, %shape, %w, %b, %eps, %false
func.func @layer_norm(%x: !torch.vtensor<[2,3],f32>, %w: !torch.vtensor<[3],f32>, %b: !torch.vtensor<[3],f32>) -> !torch.vtensor<[2,3],f32> {
  %int3 = torch.constant.int 3
  %shape = torch.prim.ListConstruct %int3 : (!torch.int) -> !torch.list<int>
  %eps = torch.constant.float 1.0e-05
  %false = torch.constant.bool false
  %0 = torch.aten.layer_norm %x, %shape, %w, %b, %eps, %false : !torch.vtensor<[2,3],f32>, !torch.list<int>, !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32>, !torch.float, !torch.bool -> !torch.vtensor<[2,3],f32>
  func.return %0 : !torch.vtensor<[2,3],f32>
}
