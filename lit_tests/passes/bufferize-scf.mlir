// RUN: xjit-opt %s -p bufferize | filecheck %s

// scf.for carrying a tensor: memref iter_args/results; the slice xs[i] is a subview (no copy);
// every buffer written in the body is allocated in the body (the iter_arg is only read).
// CHECK-LABEL: func.func @rnn(%xs: memref<?x3x4xf32>, %w: memref<4x4xf32>, %h0: memref<3x4xf32>) -> memref<3x4xf32> {
// CHECK:         %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %h0) -> (memref<3x4xf32>) {
// CHECK-NEXT:      %x = memref.subview %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : memref<?x3x4xf32> to memref<3x4xf32, strided<[4, 1], offset: ?>>
// CHECK:           %e = memref.alloc() : memref<3x4xf32>
// CHECK-NEXT:      linalg.fill ins(%zero : f32) outs(%e : memref<3x4xf32>)
// CHECK-NEXT:      linalg.matmul ins(%x, %w : memref<3x4xf32, strided<[4, 1], offset: ?>>, memref<4x4xf32>) outs(%e : memref<3x4xf32>)
// CHECK-NEXT:      %e2 = memref.alloc() : memref<3x4xf32>
// CHECK-NEXT:      linalg.generic {{.*}} ins(%e, %h : memref<3x4xf32>, memref<3x4xf32>) outs(%e2 : memref<3x4xf32>) {
// CHECK:           scf.yield %e2 : memref<3x4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %r : memref<3x4xf32>
// CHECK-NOT:     memref.copy
func.func @rnn(%xs: tensor<?x3x4xf32>, %w: tensor<4x4xf32>, %h0: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = tensor.dim %xs, %c0 : tensor<?x3x4xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %h0) -> (tensor<3x4xf32>) {
    %x = tensor.extract_slice %xs[%i, 0, 0] [1, 3, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<3x4xf32>
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<3x4xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %m = linalg.matmul ins(%x, %w : tensor<3x4xf32>, tensor<4x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
    %e2 = tensor.empty() : tensor<3x4xf32>
    %a = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m, %h : tensor<3x4xf32>, tensor<3x4xf32>) outs(%e2 : tensor<3x4xf32>) {
    ^bb0(%p: f32, %q: f32, %o: f32):
      %s = arith.addf %p, %q : f32
      %t = math.tanh %s : f32
      linalg.yield %t : f32
    } -> tensor<3x4xf32>
    scf.yield %a : tensor<3x4xf32>
  }
  func.return %r : tensor<3x4xf32>
}

// scf.if with a tensor result on a condition read from a 0-d tensor (tensor.extract ->
// memref.load); a branch may yield the argument itself (aliasing a result is fine).
// CHECK-LABEL: func.func @gate(%x: memref<3xf32>, %s: memref<f32>) -> memref<3xf32> {
// CHECK-NEXT:    %v = memref.load %s[] : memref<f32>
// CHECK:         %r = scf.if %c -> (memref<3xf32>) {
// CHECK-NEXT:      scf.yield %x : memref<3xf32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %e = memref.alloc() : memref<3xf32>
// CHECK-NEXT:      linalg.generic {{.*}} ins(%x : memref<3xf32>) outs(%e : memref<3xf32>) {
// CHECK:           scf.yield %e : memref<3xf32>
// CHECK-NEXT:    }
func.func @gate(%x: tensor<3xf32>, %s: tensor<f32>) -> tensor<3xf32> {
  %v = tensor.extract %s[] : tensor<f32>
  %zero = arith.constant 0.0 : f32
  %c = arith.cmpf ogt, %v, %zero : f32
  %r = scf.if %c -> (tensor<3xf32>) {
    scf.yield %x : tensor<3xf32>
  } else {
    %e = tensor.empty() : tensor<3xf32>
    %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%x : tensor<3xf32>) outs(%e : tensor<3xf32>) {
    ^bb0(%a: f32, %o: f32):
      %t = arith.negf %a : f32
      linalg.yield %t : f32
    } -> tensor<3xf32>
    scf.yield %n : tensor<3xf32>
  }
  func.return %r : tensor<3xf32>
}

// A loop init that is used again after the loop is not written in place there: the loop's
// result may be that very buffer (zero iterations).
// CHECK-LABEL: func.func @init_reused(%n: index) -> (memref<2xf32>, memref<2xf32>) {
// CHECK:         %e = memref.alloc() : memref<2xf32>
// CHECK-NEXT:    linalg.fill ins(%one : f32) outs(%e : memref<2xf32>)
// CHECK:         %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %e) -> (memref<2xf32>) {
// CHECK:         %g = memref.alloc() : memref<2xf32>
// CHECK-NEXT:    "memref.copy"(%e, %g) : (memref<2xf32>, memref<2xf32>) -> ()
// CHECK-NEXT:    linalg.generic {{.*}} outs(%g : memref<2xf32>) {
// CHECK:         func.return %r, %g : memref<2xf32>, memref<2xf32>
func.func @init_reused(%n: index) -> (tensor<2xf32>, tensor<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<2xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<2xf32>) -> tensor<2xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%h = %f) -> (tensor<2xf32>) {
    scf.yield %h : tensor<2xf32>
  }
  %g = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} outs(%f : tensor<2xf32>) {
  ^bb0(%o: f32):
    %t = arith.addf %o, %o : f32
    linalg.yield %t : f32
  } -> tensor<2xf32>
  func.return %r, %g : tensor<2xf32>, tensor<2xf32>
}

// scf.while: before/after block arguments, scf.condition and scf.yield operands become buffers.
// CHECK-LABEL: func.func @halve_while(%x: memref<4xf32>, %k0: i64) -> memref<4xf32> {
// CHECK-NEXT:    %r, %r_1 = scf.while (%y = %x, %k = %k0) : (memref<4xf32>, i64) -> (memref<4xf32>, i64) {
// CHECK:           scf.condition(%go) %y, %k : memref<4xf32>, i64
// CHECK-NEXT:    } do {
// CHECK-NEXT:    ^bb0(%y2: memref<4xf32>, %k2: i64):
// CHECK-NEXT:      %e = memref.alloc() : memref<4xf32>
// CHECK:           scf.yield %e, %k3 : memref<4xf32>, i64
func.func @halve_while(%x: tensor<4xf32>, %k0: i64) -> tensor<4xf32> {
  %r:2 = scf.while (%y = %x, %k = %k0) : (tensor<4xf32>, i64) -> (tensor<4xf32>, i64) {
    %zero = arith.constant 0 : i64
    %go = arith.cmpi sgt, %k, %zero : i64
    scf.condition(%go) %y, %k : tensor<4xf32>, i64
  } do {
  ^bb0(%y2: tensor<4xf32>, %k2: i64):
    %e = tensor.empty() : tensor<4xf32>
    %h = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%y2 : tensor<4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%a: f32, %o: f32):
      %half = arith.constant 0.5 : f32
      %t = arith.mulf %a, %half : f32
      linalg.yield %t : f32
    } -> tensor<4xf32>
    %one = arith.constant 1 : i64
    %k3 = arith.subi %k2, %one : i64
    scf.yield %h, %k3 : tensor<4xf32>, i64
  }
  func.return %r#0 : tensor<4xf32>
}
// CHECK:         func.return %r : memref<4xf32>
