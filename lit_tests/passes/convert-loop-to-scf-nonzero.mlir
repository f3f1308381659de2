// RUN: xjit-opt %s -p convert-loop-to-scf | filecheck %s

// scatter.nonzero (on memrefs) becomes one scf.for per source dim carrying the next free row
// of dest: where an element is nonzero (float: `une`, so NaN counts), its coordinates are
// stored in that row and the row moves on; the op is gone, so the interpreter can run it.

// CHECK-LABEL: func.func @nonzero_f32
// CHECK-NOT:     scatter.nonzero
// CHECK:         %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[C1:.*]] = arith.constant 1 : index
// CHECK:         %[[D0:.*]] = memref.dim %x, %{{.*}} : memref<2x3xf32>
// CHECK:         %[[D1:.*]] = memref.dim %x, %{{.*}} : memref<2x3xf32>
// CHECK-NEXT:    %{{.*}} = scf.for %[[I:.*]] = %[[C0]] to %[[D0]] step %[[C1]] iter_args(%[[ROW:.*]] = %[[C0]]) -> (index) {
// CHECK-NEXT:      %[[R1:.*]] = scf.for %[[J:.*]] = %[[C0]] to %[[D1]] step %[[C1]] iter_args(%[[ROW1:.*]] = %[[ROW]]) -> (index) {
// CHECK-NEXT:        %[[V:.*]] = memref.load %x[%[[I]], %[[J]]] : memref<2x3xf32>
// CHECK-NEXT:        %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT:        %[[NZ:.*]] = arith.cmpf une, %[[V]], %[[Z]] : f32
// CHECK-NEXT:        %[[NEXT:.*]] = scf.if %[[NZ]] -> (index) {
// CHECK-NEXT:          %[[COL0:.*]] = arith.constant 0 : index
// CHECK-NEXT:          %[[CI:.*]] = arith.index_cast %[[I]] : index to i64
// CHECK-NEXT:          memref.store %[[CI]], %out[%[[ROW1]], %[[COL0]]] : memref<?x2xi64>
// CHECK-NEXT:          %[[COL1:.*]] = arith.constant 1 : index
// CHECK-NEXT:          %[[CJ:.*]] = arith.index_cast %[[J]] : index to i64
// CHECK-NEXT:          memref.store %[[CJ]], %out[%[[ROW1]], %[[COL1]]] : memref<?x2xi64>
// CHECK-NEXT:          %[[INC:.*]] = arith.addi %[[ROW1]], %[[C1]] : index
// CHECK-NEXT:          scf.yield %[[INC]] : index
// CHECK-NEXT:        } else {
// CHECK-NEXT:          scf.yield %[[ROW1]] : index
// CHECK-NEXT:        }
// CHECK-NEXT:        scf.yield %[[NEXT]] : index
// CHECK-NEXT:      }
// CHECK-NEXT:      scf.yield %[[R1]] : index
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %out : memref<?x2xi64>
func.func @nonzero_f32(%x: memref<2x3xf32>, %out: memref<?x2xi64>) -> memref<?x2xi64> {
  scatter.nonzero %x into %out : memref<2x3xf32> into memref<?x2xi64>
  func.return %out : memref<?x2xi64>
}

// An i1 source is its own condition; an integer one is compared with 0.
// CHECK-LABEL: func.func @nonzero_i1
// CHECK:         %[[B:.*]] = memref.load %m[%{{.*}}] : memref<3xi1>
// CHECK-NEXT:    %{{.*}} = scf.if %[[B]] -> (index) {
func.func @nonzero_i1(%m: memref<3xi1>, %out: memref<?x1xi64>) -> memref<?x1xi64> {
  scatter.nonzero %m into %out : memref<3xi1> into memref<?x1xi64>
  func.return %out : memref<?x1xi64>
}

// CHECK-LABEL: func.func @nonzero_i64
// CHECK:         %[[K:.*]] = memref.load %k[%{{.*}}] : memref<4xi64>
// CHECK-NEXT:    %[[Z:.*]] = arith.constant 0 : i64
// CHECK-NEXT:    %{{.*}} = arith.cmpi ne, %[[K]], %[[Z]] : i64
func.func @nonzero_i64(%k: memref<4xi64>, %out: memref<?x1xi64>) -> memref<?x1xi64> {
  scatter.nonzero %k into %out : memref<4xi64> into memref<?x1xi64>
  func.return %out : memref<?x1xi64>
}

// A 0-d source: one element and no coordinates, so nothing to store.
// CHECK-LABEL: func.func @nonzero_0d
// CHECK-NOT:     scatter.nonzero
// CHECK-NOT:     memref.store
// CHECK:         func.return %out : memref<?x0xi64>
func.func @nonzero_0d(%s: memref<f32>, %out: memref<?x0xi64>) -> memref<?x0xi64> {
  scatter.nonzero %s into %out : memref<f32> into memref<?x0xi64>
  func.return %out : memref<?x0xi64>
}
