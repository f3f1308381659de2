// RUN: xjit-opt %s --split-input-file --verify-diagnostics | filecheck %s

// Every verifier error of the loop dialect, one per chunk. Type mismatches need the generic form:
// the custom syntax derives value types from the memref type.

func.func @iterator_count(%n: index) {
  loop.nest (%i) to (%n) ["parallel", "parallel"] {
  }
  func.return
}
// CHECK: sym_name = "iterator_count"
// CHECK: Operation does not verify: expected 1 iterator kinds (one per bound), got 2

// -----

func.func @iterator_kind(%n: index) {
  loop.nest (%i) to (%n) ["window"] {
  }
  func.return
}
// CHECK: sym_name = "iterator_kind"
// CHECK: Operation does not verify: unknown iterator kind 'window', expected one of ('parallel', 'reduction')

// -----

func.func @ivs_vs_bounds(%n: index) {
  loop.nest (%i, %j) to (%n) ["parallel"] {
  }
  func.return
}
// CHECK: sym_name = "ivs_vs_bounds"
// CHECK: Operation does not verify: body block must have one `index` argument per bound

// -----

func.func @load_map_dims(%A: memref<4x8xf32>, %n: index) {
  loop.nest (%i, %j) to (%n, %n) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0) -> (d0, d0)> : memref<4x8xf32>
  }
  func.return
}
// CHECK: sym_name = "load_map_dims"
// CHECK: Operation does not verify: loop.load map has 1 dims but 2 index operands

// -----

func.func @store_map_dims(%B: memref<8xf32>, %x: f32, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    loop.store %x, %B[%i] affine_map<(d0, d1) -> (d1)> : memref<8xf32>
  }
  func.return
}
// CHECK: sym_name = "store_map_dims"
// CHECK: Operation does not verify: loop.store map has 2 dims but 1 index operands

// -----

func.func @load_map_results(%A: memref<4x8xf32>, %n: index) {
  loop.nest (%i, %j) to (%n, %n) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d1)> : memref<4x8xf32>
  }
  func.return
}
// CHECK: sym_name = "load_map_results"
// CHECK: Operation does not verify: loop.load map has 1 results but the memref has rank 2

// -----

func.func @store_map_results(%B: memref<8xf32>, %x: f32, %n: index) {
  loop.nest (%i, %j) to (%n, %n) ["parallel", "parallel"] {
    loop.store %x, %B[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8xf32>
  }
  func.return
}
// CHECK: sym_name = "store_map_results"
// CHECK: Operation does not verify: loop.store map has 2 results but the memref has rank 1

// -----

func.func @map_symbols(%B: memref<8xf32>, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    %b = loop.load %B[%i] affine_map<(d0)[s0] -> (d0 + s0)> : memref<8xf32>
  }
  func.return
}
// CHECK: sym_name = "map_symbols"
// CHECK: Operation does not verify: loop.load map must not have symbols

// -----

func.func @load_result_type(%B: memref<8xf32>, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    %b = "loop.load"(%B, %i) <{map = affine_map<(d0) -> (d0)>}> : (memref<8xf32>, index) -> f64
  }
  func.return
}
// CHECK: sym_name = "load_result_type"
// CHECK: Operation does not verify: result type f64 does not match the element type f32

// -----

func.func @store_value_type(%B: memref<8xf32>, %x: f64, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    "loop.store"(%x, %B, %i) <{map = affine_map<(d0) -> (d0)>}> : (f64, memref<8xf32>, index) -> ()
  }
  func.return
}
// CHECK: sym_name = "store_value_type"
// CHECK: Operation does not verify: stored value type f64 does not match the element type f32

// -----

func.func @yield_outside_nest() {
  "loop.yield"() : () -> ()
}
// CHECK: sym_name = "yield_outside_nest"
// CHECK: Operation does not verify: 'loop.yield' expects parent op 'loop.nest'
