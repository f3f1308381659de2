// RUN: xjit-opt %s --split-input-file | filecheck %s
// RUN: xjit-opt %s --split-input-file --print-op-generic | xjit-opt --split-input-file | filecheck %s

// scatter.index_put round-trips in its custom and generic forms, on tensors (with a result)
// and on memrefs (written in place).

// CHECK-LABEL: func.func @on_tensors
// CHECK-NEXT:    %[[R:.*]] = scatter.index_put %v into %x[%i, %j] {accumulate} : tensor<2x5xf32> into tensor<4x6x5xf32>[tensor<2xi64>, tensor<2xi64>] -> tensor<4x6x5xf32>
// CHECK-NEXT:    func.return %[[R]]
func.func @on_tensors(%x: tensor<4x6x5xf32>, %i: tensor<2xi64>, %j: tensor<2xi64>, %v: tensor<2x5xf32>) -> tensor<4x6x5xf32> {
  %0 = scatter.index_put %v into %x[%i, %j] {accumulate} : tensor<2x5xf32> into tensor<4x6x5xf32>[tensor<2xi64>, tensor<2xi64>] -> tensor<4x6x5xf32>
  func.return %0 : tensor<4x6x5xf32>
}

// -----

// CHECK-LABEL: func.func @on_memrefs
// CHECK-NEXT:    scatter.index_put %v into %x[%i] : memref<?x3xf32> into memref<4x3xf32>[memref<?xi64>]
func.func @on_memrefs(%x: memref<4x3xf32>, %i: memref<?xi64>, %v: memref<?x3xf32>) {
  scatter.index_put %v into %x[%i] : memref<?x3xf32> into memref<4x3xf32>[memref<?xi64>]
  func.return
}

// -----

// scatter.nonzero: on tensors (the filled dest) and on memrefs (filled in place).

// CHECK-LABEL: func.func @nonzero_tensors
// CHECK-NEXT:    %[[R:.*]] = scatter.nonzero %m into %e : tensor<3x4xi1> into tensor<?x2xi64> -> tensor<?x2xi64>
// CHECK-NEXT:    func.return %[[R]]
func.func @nonzero_tensors(%m: tensor<3x4xi1>, %e: tensor<?x2xi64>) -> tensor<?x2xi64> {
  %r = scatter.nonzero %m into %e : tensor<3x4xi1> into tensor<?x2xi64> -> tensor<?x2xi64>
  func.return %r : tensor<?x2xi64>
}

// -----

// CHECK-LABEL: func.func @nonzero_memrefs
// CHECK-NEXT:    scatter.nonzero %m into %e : memref<5xf32> into memref<?x1xi64>
func.func @nonzero_memrefs(%m: memref<5xf32>, %e: memref<?x1xi64>) {
  scatter.nonzero %m into %e : memref<5xf32> into memref<?x1xi64>
  func.return
}
