// RUN: xjit-opt %s --split-input-file -p linalg-fuse-elementwise | filecheck %s
// RUN: xjit-opt %s --split-input-file -p linalg-fuse-elementwise{hoisted-broadcasts=false} | filecheck %s --check-prefix=STRICT
// RUN: xjit-opt %s --split-input-file -p linalg-fuse-elementwise,bufferize,convert-linalg-to-loop --fusion-report 2>&1 >/dev/null | filecheck %s --check-prefix=REPORT
// RUN: xjit-opt %s --split-input-file -p linalg-fuse-elementwise,bufferize,convert-linalg-to-loop | filecheck %s --check-prefix=NESTS

// Numerics (fused == unfused == numpy, through the interpreter and the numpy backend):
// tests/test_fusion.py.

// tanh(x*a + b) * sigmoid(x) + x, as convert-torch-to-linalg emits it (b broadcast over rows).
func.func @chain(%x: tensor<4x8xf32>, %a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %one = arith.constant 1.0 : f32
  %mul = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %a : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.mulf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.mul.Tensor"("chain.py":2:1))
  %add = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mul, %b : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.addf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.add.Tensor"("chain.py":2:1))
  %tanh = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%add : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = math.tanh %p : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.tanh"("chain.py":2:1))
  %sig = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %n = arith.negf %p : f32
    %ex = math.exp %n : f32
    %d = arith.addf %ex, %one : f32
    %r = arith.divf %one, %d : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.sigmoid"("chain.py":2:1))
  %prod = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%tanh, %sig : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.mulf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.mul.Tensor"("chain.py":2:2))
  %out = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%prod, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.addf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.add.Tensor"("chain.py":2:3))
  func.return %out : tensor<4x8xf32>
}

// The whole chain is ONE generic: x, a and b read once (x deduplicated), b through its broadcast.
// CHECK-LABEL: func.func @chain
// CHECK:       linalg.generic {{.*}} ins(%x, %a, %b : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>)
// CHECK:         math.exp
// CHECK:         arith.divf
// CHECK:         arith.mulf
// CHECK:         arith.addf
// CHECK:         math.tanh
// CHECK:         arith.mulf
// CHECK:         arith.addf
// CHECK-NEXT:    linalg.yield
// CHECK-NOT:   linalg.generic
// CHECK:       func.return
// REPORT:      @chain: 1 loop nests
// REPORT-NEXT:   #1 (elementwise):
// REPORT-NEXT:       aten.sigmoid (chain.py:2)
// REPORT:            aten.tanh (chain.py:2)
// NESTS-LABEL: func.func @chain
// NESTS-COUNT-1: loop.nest
// NESTS-NOT:   loop.nest
// NESTS:       func.return

// -----

// Multi-consumer rule. %s (an add: cheap) feeds two consumers: recomputed in both.
// %t (an exp: expensive) feeds two consumers and is returned: fused into the first one, which
// also yields it. %u (a tanh) is returned before... used by a matmul: left alone.
func.func @shared(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.addf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = math.exp %p : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %c1 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s, %t : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.mulf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %c2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%s, %t : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.subf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  func.return %c1, %c2, %t : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// The add (cost 1) is recomputed inside both consumers; the exp (expensive, 3 users) is computed
// once, in the first consumer, which also yields it for the second consumer and the return.
// CHECK-LABEL: func.func @shared
// CHECK:       %c1, %t = linalg.generic {{.*}} ins(%x, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e, %e : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK:         %[[EXP:.*]] = math.exp
// CHECK:         %[[ADD:.*]] = arith.addf
// CHECK:         %[[MUL:.*]] = arith.mulf %[[ADD]], %[[EXP]]
// CHECK:         linalg.yield %[[MUL]], %[[EXP]] : f32, f32
// CHECK:       %c2 = linalg.generic {{.*}} ins(%x, %y, %t : {{.*}})
// CHECK-NOT:     math.exp
// CHECK:         arith.addf
// CHECK:         arith.subf
// CHECK:       func.return %c1, %c2, %t
// REPORT:      @shared: 2 loop nests
// REPORT:      fused:
// REPORT-NEXT:   linalg.generic  ->  linalg.generic: recomputed: cheap (1 scalar ops), 1 other user(s)
// REPORT-NEXT:   linalg.generic  ->  linalg.generic: result kept as an extra output (2 other user(s); math.exp not recomputed)
// REPORT:      not fused:
// REPORT-NEXT:   linalg.generic  ->  linalg.generic: it has several results

// -----

// An expensive producer read through a broadcast: fused only when broadcasts are hoisted.
func.func @broadcast(%x: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %e8 = tensor.empty() : tensor<8xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%b : tensor<8xf32>) outs(%e8 : tensor<8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = math.tanh %p : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %t : tensor<4x8xf32>, tensor<8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.addf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  func.return %y : tensor<4x8xf32>
}
// A tanh read through a broadcast: the numpy backend evaluates it once per element of %b
// (hoisted), so it fuses; a backend that recomputes per iteration (hoisted-broadcasts=false)
// keeps it separate.
// CHECK-LABEL: func.func @broadcast
// CHECK:       linalg.generic {{.*}} ins(%x, %b : tensor<4x8xf32>, tensor<8xf32>)
// CHECK:         math.tanh
// CHECK:         arith.addf
// CHECK-NOT:   linalg.generic
// STRICT-LABEL: func.func @broadcast
// STRICT:       math.tanh
// STRICT:       linalg.generic
// STRICT:       arith.addf

// -----

// softmax(x, dim=-1) as torch-decompose + convert-torch-to-linalg produce it:
// amax, sub, exp, sum, div: five generics (and two fills).
func.func @softmax(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %er = tensor.empty() : tensor<4xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %mi = linalg.fill ins(%ninf : f32) outs(%er : tensor<4xf32>) -> tensor<4xf32>
  %max = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%mi : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.maximumf %p, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.amax")
  %sub = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %max : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.subf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.sub.Tensor")
  %exp = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%sub : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = math.exp %p : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.exp")
  %si = linalg.fill ins(%zero : f32) outs(%er : tensor<4xf32>) -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%exp : tensor<4x8xf32>) outs(%si : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.addf %p, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.sum.dim_IntList")
  %div = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%exp, %sum : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.divf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.div.Tensor")
  func.return %div : tensor<4x8xf32>
}

// softmax: 3 generics (amax; sub+exp+sum keeping exp as a second result; div) + 2 fills.
// CHECK-LABEL: func.func @softmax
// CHECK:       %max = linalg.generic
// CHECK:       %sum, %exp = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%x, %max : tensor<4x8xf32>, tensor<4xf32>) outs(%si, %e : tensor<4xf32>, tensor<4x8xf32>)
// CHECK:         arith.subf
// CHECK:         %[[E:.*]] = math.exp
// CHECK:         %[[S:.*]] = arith.addf %[[E]]
// CHECK:         linalg.yield %[[S]], %[[E]] : f32, f32
// CHECK:       %div = linalg.generic {{.*}} ins(%exp, %sum : tensor<4x8xf32>, tensor<4xf32>)
// CHECK-NOT:   linalg.generic
// CHECK:       func.return %div
// NESTS-LABEL: func.func @softmax
// NESTS-COUNT-5: loop.nest
// NESTS-NOT:   loop.nest
// NESTS:       func.return
// REPORT:      @softmax: 5 loop nests
// REPORT:        #3 (fill):
// REPORT:        #4 (reduction, 2 outputs):
// REPORT-NEXT:       aten.sub.Tensor
// REPORT-NEXT:       aten.exp
// REPORT-NEXT:       aten.sum.dim_IntList
// REPORT:      not fused:
// REPORT:        aten.amax  ->  aten.sub.Tensor + aten.exp + aten.sum.dim_IntList: it is a reduction (its result exists only after the whole loop)

// -----


// layer_norm(x, [8]) without affine: sum, div, sub, mul, sum, div, add, rsqrt, mul.
func.func @layer_norm(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 8.0 : f32
  %eps = arith.constant 1.0e-05 : f32
  %er = tensor.empty() : tensor<4xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%er : tensor<4xf32>) -> tensor<4xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x8xf32>) outs(%s0 : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.addf %p, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.sum.dim_IntList")
  %mean = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%s : tensor<4xf32>) outs(%er : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.divf %p, %n : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.div.Scalar")
  %xc = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %mean : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.subf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.sub.Tensor")
  %sq = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%xc : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.mulf %p, %p : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.mul.Tensor")
  %v0 = linalg.fill ins(%zero : f32) outs(%er : tensor<4xf32>) -> tensor<4xf32>
  %v = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%sq : tensor<4x8xf32>) outs(%v0 : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.addf %p, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.sum.dim_IntList")
  %var = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%v : tensor<4xf32>) outs(%er : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.divf %p, %n : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.div.Scalar")
  %ve = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%var : tensor<4xf32>) outs(%er : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = arith.addf %p, %eps : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.add.Scalar")
  %rs = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%ve : tensor<4xf32>) outs(%er : tensor<4xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = math.rsqrt %p : f32
    linalg.yield %r : f32
  } -> tensor<4xf32> loc("aten.rsqrt")
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%xc, %rs : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.mulf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.mul.Tensor")
  func.return %y : tensor<4x8xf32>
}
// layer_norm: 3 generics (sum; x - mean squared and summed; the normalisation, with
// var/eps/rsqrt evaluated per row through the broadcast) + 2 fills.
// CHECK-LABEL: func.func @layer_norm
// CHECK:       %s = linalg.generic
// CHECK:       %v = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%x, %s : tensor<4x8xf32>, tensor<4xf32>) outs(%v0 : tensor<4xf32>)
// CHECK:       %y = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%x, %s, %v : tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>)
// CHECK:         math.rsqrt
// CHECK-NOT:   linalg.generic
// CHECK:       func.return %y
// NESTS-LABEL: func.func @layer_norm
// NESTS-COUNT-5: loop.nest
// NESTS-NOT:   loop.nest
// NESTS:       func.return

// -----

// A linear layer after an elementwise chain: y = (2x + 1) @ wᵀ. The transpose (a pure copy)
// fuses into the contraction as a strided read; the elementwise producer does not (fused, the
// matrix product would become a broadcast product over all three loops instead of one GEMM).
func.func @contraction(%x: tensor<4x8xf32>, %w: tensor<6x8xf32>) -> tensor<4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %two = arith.constant 2.0 : f32
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %m = arith.mulf %p, %two : f32
    %r = arith.addf %m, %one : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.add.Scalar")
  %et = tensor.empty() : tensor<8x6xf32>
  %wt = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<6x8xf32>) outs(%et : tensor<8x6xf32>) {
  ^bb0(%p: f32, %o: f32):
    linalg.yield %p : f32
  } -> tensor<8x6xf32> loc("aten.t")
  %eo = tensor.empty() : tensor<4x6xf32>
  %z = linalg.fill ins(%zero : f32) outs(%eo : tensor<4x6xf32>) -> tensor<4x6xf32>
  %mm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %wt : tensor<4x8xf32>, tensor<8x6xf32>) outs(%z : tensor<4x6xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %m = arith.mulf %p, %q : f32
    %r = arith.addf %m, %o : f32
    linalg.yield %r : f32
  } -> tensor<4x6xf32> loc("aten.matmul")
  func.return %mm : tensor<4x6xf32>
}
// CHECK-LABEL: func.func @contraction
// CHECK:       %a = linalg.generic
// CHECK:         arith.mulf
// CHECK:         arith.addf
// CHECK:       %mm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %w : tensor<4x8xf32>, tensor<6x8xf32>)
// CHECK-NOT:   linalg.generic
// CHECK:       func.return %mm
// REPORT:      @contraction: 3 loop nests
// REPORT:      fused:
// REPORT-NEXT:   aten.t  ->  aten.matmul: through a broadcast
// REPORT:      not fused:
// REPORT-NEXT:   aten.add.Scalar  ->  aten.t + aten.matmul: an operand of a contraction
