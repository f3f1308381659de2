// RUN: xjit-opt %s -p convert-loop-to-scf | filecheck %s
// RUN: xjit-opt %s -p convert-loop-to-scf --print-op-generic | filecheck %s --check-prefix=GENERIC

// Every loop op is gone and scf.for bodies end in an explicit scf.yield (implicit in the custom
// form): only upstream scf/memref/arith/math remain.
// GENERIC-NOT: "loop.
// GENERIC:     "memref.store"(%s, %C, %i, %j) : (f32, memref<?x2xf32>, index, index) -> ()
// GENERIC-NEXT: "scf.yield"() : () -> ()
// GENERIC-NOT: "loop.

// A nest becomes one scf.for per bound, outermost = first dim, from 0 step 1; the body moves
// into the innermost loop.
func.func @matmul(%A: memref<?x4xf32>, %B: memref<4x2xf32>, %C: memref<?x2xf32>) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %A, %c0 : memref<?x4xf32>
  loop.nest (%i, %j, %k) to (%n, %c2, %c4) ["parallel", "parallel", "reduction"] {
    %a = loop.load %A[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d2)> : memref<?x4xf32>
    %b = loop.load %B[%i, %j, %k] affine_map<(d0, d1, d2) -> (d2, d1)> : memref<4x2xf32>
    %c = loop.load %C[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<?x2xf32>
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    loop.store %s, %C[%i, %j, %k] affine_map<(d0, d1, d2) -> (d0, d1)> : memref<?x2xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @matmul
// CHECK:         %n = memref.dim %A, %c0 : memref<?x4xf32>
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant 0 : index
// CHECK-NEXT:    %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT:    scf.for %i = %[[ZERO]] to %n step %[[ONE]] {
// CHECK-NEXT:      scf.for %j = %[[ZERO]] to %c2 step %[[ONE]] {
// CHECK-NEXT:        scf.for %k = %[[ZERO]] to %c4 step %[[ONE]] {
// CHECK-NEXT:          %a = memref.load %A[%i, %k] : memref<?x4xf32>
// CHECK-NEXT:          %b = memref.load %B[%k, %j] : memref<4x2xf32>
// CHECK-NEXT:          %c = memref.load %C[%i, %j] : memref<?x2xf32>
// CHECK-NEXT:          %p = arith.mulf %a, %b : f32
// CHECK-NEXT:          %s = arith.addf %c, %p : f32
// CHECK-NEXT:          memref.store %s, %C[%i, %j] : memref<?x2xf32>
// CHECK-NEXT:        }
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

// Non-trivial map results are computed with arith on index before the access.
func.func @strided(%A: memref<16xf32>, %B: memref<4x4xf32>) {
  %c4 = arith.constant 4 : index
  loop.nest (%i, %j) to (%c4, %c4) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0 * 4 + d1)> : memref<16xf32>
    %e = math.exp %a : f32
    loop.store %e, %B[%i, %j] affine_map<(d0, d1) -> (d1, d0)> : memref<4x4xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @strided
// CHECK:         scf.for %i = %{{.*}} to %c4 step %{{.*}} {
// CHECK-NEXT:      scf.for %j = %{{.*}} to %c4 step %{{.*}} {
// CHECK-NEXT:        %[[FOUR:.*]] = arith.constant 4 : index
// CHECK-NEXT:        %[[MUL:.*]] = arith.muli %i, %[[FOUR]] : index
// CHECK-NEXT:        %[[IDX:.*]] = arith.addi %[[MUL]], %j : index
// CHECK-NEXT:        %a = memref.load %A[%[[IDX]]] : memref<16xf32>
// CHECK-NEXT:        %e = math.exp %a : f32
// CHECK-NEXT:        memref.store %e, %B[%j, %i] : memref<4x4xf32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }

// floordiv and mod by a constant: mod is `a - (a floordiv b) * b`, never negative.
func.func @split(%A: memref<12xf32>, %B: memref<3x4xf32>) {
  %c12 = arith.constant 12 : index
  loop.nest (%i) to (%c12) ["parallel"] {
    %a = loop.load %A[%i] affine_map<(d0) -> (d0)> : memref<12xf32>
    loop.store %a, %B[%i] affine_map<(d0) -> (d0 floordiv 4, d0 mod 4)> : memref<3x4xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @split
// CHECK:           %a = memref.load %A[%i] : memref<12xf32>
// CHECK-NEXT:      %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT:      %[[ROW:.*]] = arith.floordivsi %i, %[[C4]] : index
// CHECK-NEXT:      %[[C4B:.*]] = arith.constant 4 : index
// CHECK-NEXT:      %[[Q:.*]] = arith.floordivsi %i, %[[C4B]] : index
// CHECK-NEXT:      %[[P:.*]] = arith.muli %[[Q]], %[[C4B]] : index
// CHECK-NEXT:      %[[COL:.*]] = arith.subi %i, %[[P]] : index
// CHECK-NEXT:      memref.store %a, %B[%[[ROW]], %[[COL]]] : memref<3x4xf32>

// Nests inside scf.for (indices from outside the nest) and 0-d nests are lowered too.
func.func @nested(%A: memref<4x3xf32>, %x: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  scf.for %r = %c0 to %c4 step %c1 {
    loop.nest (%j) to (%c3) ["reduction"] {
      %a = loop.load %A[%j, %r] affine_map<(d0, d1) -> (d1, d0)> : memref<4x3xf32>
      %s = loop.load %x[] affine_map<() -> ()> : memref<f32>
      %t = arith.addf %s, %a : f32
      loop.store %t, %x[] affine_map<() -> ()> : memref<f32>
    }
  }
  loop.nest () to () [] {
    %s = loop.load %x[] affine_map<() -> ()> : memref<f32>
    %n = arith.negf %s : f32
    loop.store %n, %x[] affine_map<() -> ()> : memref<f32>
  }
  func.return
}

// CHECK-LABEL: func.func @nested
// CHECK:         scf.for %r = %c0 to %c4 step %c1 {
// CHECK-NEXT:      %[[Z:.*]] = arith.constant 0 : index
// CHECK-NEXT:      %[[O:.*]] = arith.constant 1 : index
// CHECK-NEXT:      scf.for %j = %[[Z]] to %c3 step %[[O]] {
// CHECK-NEXT:        %a = memref.load %A[%r, %j] : memref<4x3xf32>
// CHECK-NEXT:        %s = memref.load %x[] : memref<f32>
// CHECK-NEXT:        %t = arith.addf %s, %a : f32
// CHECK-NEXT:        memref.store %t, %x[] : memref<f32>
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-NEXT:    %[[S:.*]] = memref.load %x[] : memref<f32>
// CHECK-NEXT:    %[[N:.*]] = arith.negf %[[S]] : f32
// CHECK-NEXT:    memref.store %[[N]], %x[] : memref<f32>
// CHECK-NEXT:    func.return
