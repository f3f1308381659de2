// RUN: xjit-opt %s --split-input-file --verify-diagnostics

// The verifier errors of scatter.index_put, one per chunk.

func.func @values_shape(%x: tensor<4x3xf32>, %i: tensor<2xi64>, %v: tensor<3x3xf32>) -> tensor<4x3xf32> {
  // expected-error@+1 {{values shape [3, 3] is not index shape + rest [2, 3]}}
  %0 = scatter.index_put %v into %x[%i] : tensor<3x3xf32> into tensor<4x3xf32>[tensor<2xi64>] -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}

// -----

func.func @index_shapes(%x: tensor<4x3xf32>, %i: tensor<2xi64>, %j: tensor<3xi64>, %v: tensor<2xf32>) -> tensor<4x3xf32> {
  // expected-error@+1 {{index operands must all be i64 of one shape}}
  %0 = scatter.index_put %v into %x[%i, %j] : tensor<2xf32> into tensor<4x3xf32>[tensor<2xi64>, tensor<3xi64>] -> tensor<4x3xf32>
  func.return %0 : tensor<4x3xf32>
}

// -----

func.func @memref_result(%x: memref<4xf32>, %i: memref<2xi64>, %v: memref<2xf32>) {
  // expected-error@+1 {{a result on tensors (the updated copy), none on memrefs}}
  %0 = "scatter.index_put"(%v, %x, %i) <{operandSegmentSizes = array<i32: 1, 1, 1>}> : (memref<2xf32>, memref<4xf32>, memref<2xi64>) -> memref<4xf32>
  func.return
}

// -----

func.func @bool_accumulate(%x: tensor<4xi1>, %i: tensor<2xi64>, %v: tensor<2xi1>) -> tensor<4xi1> {
  // expected-error@+1 {{accumulate on i1 is not supported}}
  %0 = scatter.index_put %v into %x[%i] {accumulate} : tensor<2xi1> into tensor<4xi1>[tensor<2xi64>] -> tensor<4xi1>
  func.return %0 : tensor<4xi1>
}

// -----

func.func @nonzero_columns(%m: tensor<3x4xi1>, %e: tensor<?x3xi64>) -> tensor<?x3xi64> {
  // expected-error@+1 {{dest has 3 columns, not the source rank 2}}
  %r = scatter.nonzero %m into %e : tensor<3x4xi1> into tensor<?x3xi64> -> tensor<?x3xi64>
  func.return %r : tensor<?x3xi64>
}

// -----

func.func @nonzero_dest_type(%m: tensor<3x4xi1>, %e: tensor<?x2xi32>) -> tensor<?x2xi32> {
  // expected-error@+1 {{dest must be a 2-d i64 tensor, got tensor<?x2xi32>}}
  %r = scatter.nonzero %m into %e : tensor<3x4xi1> into tensor<?x2xi32> -> tensor<?x2xi32>
  func.return %r : tensor<?x2xi32>
}

// -----

func.func @nonzero_mixed(%m: tensor<3x4xi1>, %e: memref<?x2xi64>) {
  // expected-error@+1 {{source and dest must both be tensors or both memrefs}}
  scatter.nonzero %m into %e : tensor<3x4xi1> into memref<?x2xi64>
  func.return
}
