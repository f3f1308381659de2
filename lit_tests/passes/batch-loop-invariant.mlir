// RUN: xjit-opt %s --split-input-file -p batch-loop-invariant,canonicalize,cse | filecheck %s

// Numerics (batched == unbatched == numpy, through the interpreter and the numpy backend), trip
// counts 0 and 1, lower bounds other than 0, slices along dim 1: tests/test_batch_loop_invariant.py.

// The tutorial's RNN step at the linalg stage: h = tanh(gate(xs[i] @ w + b) + h), with
// gate(y) = y if sum(y) > 0 else -y.
// The projection x[i] @ w, the bias add and the gate's sum read only xs[i]: one batched
// generic each before the loop (a leading parallel dim of extent 10; the invariant w and b
// ignore it); inside, a view of the batched bias add at %i and a read of the batched sum.
// CHECK-LABEL: func.func @rnn
// CHECK:         %n = arith.constant 10 : index
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<10x3x4xf32>
// CHECK-NEXT:    %[[F:.*]] = linalg.fill ins(%zero : f32) outs(%[[E]] : tensor<10x3x4xf32>) -> tensor<10x3x4xf32>
// CHECK-NEXT:    %[[MM:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%xs, %w : tensor<10x3x4xf32>, tensor<4x4xf32>) outs(%[[F]] : tensor<10x3x4xf32>) {
// CHECK:           arith.mulf
// CHECK-NEXT:      arith.addf
// CHECK:         } -> tensor<10x3x4xf32>
// CHECK-NEXT:    %[[Y:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[MM]], %b : tensor<10x3x4xf32>, tensor<4xf32>) outs(%[[E]] : tensor<10x3x4xf32>) {
// CHECK:         } -> tensor<10x3x4xf32>
// CHECK:         %[[S:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0)>], iterator_types = ["parallel", "reduction", "reduction"]} ins(%[[Y]] : tensor<10x3x4xf32>) outs(%{{.*}} : tensor<10xf32>) {
// CHECK:         } -> tensor<10xf32>
// CHECK-NEXT:    %h = scf.for %i = %c0 to %n step %c1 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {
// CHECK-NEXT:      %[[YI:.*]] = tensor.extract_slice %[[Y]][%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<10x3x4xf32> to tensor<3x4xf32>
// CHECK-NEXT:      %sv = tensor.extract %[[S]][%i] : tensor<10xf32>
// CHECK-NEXT:      %pos = arith.cmpf ogt, %sv, %zero : f32
// CHECK-NEXT:      %g = scf.if %pos -> (tensor<3x4xf32>) {
// CHECK-NEXT:        scf.yield %[[YI]] : tensor<3x4xf32>
// CHECK-NEXT:      } else {
// CHECK-NEXT:        %ng = linalg.generic {{.*}} ins(%[[YI]] : tensor<3x4xf32>)
// CHECK:           %a = linalg.generic {{.*}} ins(%g, %hi : tensor<3x4xf32>, tensor<3x4xf32>)
// CHECK-NOT:       linalg.matmul
// CHECK:           scf.yield %a : tensor<3x4xf32>
func.func @rnn(%xs: tensor<10x3x4xf32>, %w: tensor<4x4xf32>, %b: tensor<4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.000000e+00 : f32
  %n = arith.constant 10 : index
  %e = tensor.empty() : tensor<3x4xf32>
  %h = scf.for %i = %c0 to %n step %c1 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<10x3x4xf32> to tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<3x4xf32>, tensor<4xf32>) outs(%e : tensor<3x4xf32>) {
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      linalg.yield %r : f32
    } -> tensor<3x4xf32>
    %es = tensor.empty() : tensor<f32>
    %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<f32>) -> tensor<f32>
    %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>], iterator_types = ["reduction", "reduction"]} ins(%y : tensor<3x4xf32>) outs(%fs : tensor<f32>) {
    ^bb0(%p: f32, %o: f32):
      %r = arith.addf %p, %o : f32
      linalg.yield %r : f32
    } -> tensor<f32>
    %sv = tensor.extract %s[] : tensor<f32>
    %pos = arith.cmpf ogt, %sv, %zero : f32
    %g = scf.if %pos -> (tensor<3x4xf32>) {
      scf.yield %y : tensor<3x4xf32>
    } else {
      %ng = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {
      ^bb0(%p: f32, %o: f32):
        %r = arith.negf %p : f32
        linalg.yield %r : f32
      } -> tensor<3x4xf32>
      scf.yield %ng : tensor<3x4xf32>
    }
    %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g, %hi : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      %t = math.tanh %r : f32
      linalg.yield %t : f32
    } -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }
  func.return %h : tensor<3x4xf32>
}

// -----

// h @ w reads the carried value: nothing moves.
// CHECK-LABEL: func.func @carried
// CHECK:         %e = tensor.empty() : tensor<3x4xf32>
// CHECK-NEXT:    %h = scf.for %i = %c0 to %n step %c1 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {
// CHECK-NEXT:      %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1]
// CHECK-NEXT:      %f = linalg.fill
// CHECK-NEXT:      %m = linalg.matmul ins(%hi, %w : tensor<3x4xf32>, tensor<4x4xf32>)
// CHECK-NEXT:      %a = linalg.generic
func.func @carried(%xs: tensor<?x3x4xf32>, %w: tensor<4x4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.000000e+00 : f32
  %n = tensor.dim %xs, %c0 : tensor<?x3x4xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %h = scf.for %i = %c0 to %n step %c1 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%hi, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %x : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      %t = math.tanh %r : f32
      linalg.yield %t : f32
    } -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }
  func.return %h : tensor<3x4xf32>
}

// -----

// Step 2: not batched (a strided batch would need a strided view).
// CHECK-LABEL: func.func @strided
// CHECK:         %h = scf.for %i = %c0 to %n step %c2
// CHECK:           %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1]
// CHECK:           %m = linalg.matmul ins(%x, %w
func.func @strided(%xs: tensor<?x3x4xf32>, %w: tensor<4x4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %zero = arith.constant 0.000000e+00 : f32
  %n = tensor.dim %xs, %c0 : tensor<?x3x4xf32>
  %e = tensor.empty() : tensor<3x4xf32>
  %h = scf.for %i = %c0 to %n step %c2 iter_args(%hi = %h0) -> (tensor<3x4xf32>) {
    %j = arith.addi %i, %c0 : index
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %hi : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e : tensor<3x4xf32>) {
    ^bb0(%p: f32, %q: f32, %o: f32):
      %r = arith.addf %p, %q : f32
      linalg.yield %r : f32
    } -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }
  func.return %h : tensor<3x4xf32>
}
