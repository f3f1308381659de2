// RUN: xjit-opt %s | xjit-opt | filecheck %s
// RUN: xjit-opt %s --print-op-generic | xjit-opt | filecheck %s

// The custom syntax round-trips (also through the generic form): implicit terminator,
// iterator kinds, affine maps, dynamic bounds and extra attributes are kept.

func.func @reduce(%A: memref<?x4xf32>, %B: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %A, %c0 : memref<?x4xf32>
  loop.nest (%i, %j) to (%n, %c4) ["parallel", "reduction"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x4xf32>
    %b = loop.load %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
    %s = arith.addf %b, %a : f32
    loop.store %s, %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @reduce(%A: memref<?x4xf32>, %B: memref<?xf32>) {
// CHECK:         %n = memref.dim %A, %c0 : memref<?x4xf32>
// CHECK-NEXT:    loop.nest (%i, %j) to (%n, %c4) ["parallel", "reduction"] {
// CHECK-NEXT:      %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x4xf32>
// CHECK-NEXT:      %b = loop.load %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
// CHECK-NEXT:      %s = arith.addf %b, %a : f32
// CHECK-NEXT:      loop.store %s, %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return

func.func @maps(%A: memref<8x4xf32>, %T: memref<4x8xf32>, %n: index) {
  %c4 = arith.constant 4 : index
  loop.nest (%i, %j) to (%n, %c4) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0 * 2 + 1, d1 floordiv 2)> : memref<8x4xf32>
    loop.store %a, %T[%i, %j] affine_map<(d0, d1) -> (d1, d0 mod 8)> {tag} : memref<4x8xf32>
  } {note = "kept"}
  loop.nest () to () [] {
    %x = loop.load %A[%n, %c4] affine_map<(d0, d1) -> (d0, d1)> : memref<8x4xf32>
  }
  func.return
}

// CHECK-LABEL: func.func @maps
// CHECK:         loop.nest (%i, %j) to (%n, %c4) ["parallel", "parallel"] {
// CHECK-NEXT:      %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (((d0 * 2) + 1), (d1 floordiv 2))> : memref<8x4xf32>
// CHECK-NEXT:      loop.store %a, %T[%i, %j] affine_map<(d0, d1) -> (d1, (d0 mod 8))> {tag} : memref<4x8xf32>
// CHECK-NEXT:    } {note = "kept"}
// CHECK-NEXT:    loop.nest () to () [] {
// CHECK-NEXT:      %x = loop.load %A[%n, %c4] affine_map<(d0, d1) -> (d0, d1)> : memref<8x4xf32>
// CHECK-NEXT:    }
