// RUN: xjit-opt %s --split-input-file --verify-diagnostics

// Every verifier error of the loop dialect, one per chunk. Type mismatches need the generic form:
// the custom syntax derives value types from the memref type.

func.func @iterator_count(%n: index) {
  // expected-error@+1 {{expected 1 iterator kinds (one per bound), got 2}}
  loop.nest (%i) to (%n) ["parallel", "parallel"] {
  }
  func.return
}

// -----

func.func @iterator_kind(%n: index) {
  // expected-error@+1 {{unknown iterator kind 'window', expected one of ('parallel', 'reduction')}}
  loop.nest (%i) to (%n) ["window"] {
  }
  func.return
}

// -----

func.func @ivs_vs_bounds(%n: index) {
  // expected-error@+1 {{body block must have one `index` argument per bound}}
  loop.nest (%i, %j) to (%n) ["parallel"] {
  }
  func.return
}

// -----

func.func @load_map_dims(%A: memref<4x8xf32>, %n: index) {
  loop.nest (%i, %j) to (%n, %n) ["parallel", "parallel"] {
    // expected-error@+1 {{loop.load map has 1 dims but 2 index operands}}
    %a = loop.load %A[%i, %j] affine_map<(d0) -> (d0, d0)> : memref<4x8xf32>
  }
  func.return
}

// -----

func.func @store_map_dims(%B: memref<8xf32>, %x: f32, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    // expected-error@+1 {{loop.store map has 2 dims but 1 index operands}}
    loop.store %x, %B[%i] affine_map<(d0, d1) -> (d1)> : memref<8xf32>
  }
  func.return
}

// -----

func.func @load_map_results(%A: memref<4x8xf32>, %n: index) {
  loop.nest (%i, %j) to (%n, %n) ["parallel", "parallel"] {
    // expected-error@+1 {{loop.load map has 1 results but the memref has rank 2}}
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d1)> : memref<4x8xf32>
  }
  func.return
}

// -----

func.func @store_map_results(%B: memref<8xf32>, %x: f32, %n: index) {
  loop.nest (%i, %j) to (%n, %n) ["parallel", "parallel"] {
    // expected-error@+1 {{loop.store map has 2 results but the memref has rank 1}}
    loop.store %x, %B[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8xf32>
  }
  func.return
}

// -----

func.func @map_symbols(%B: memref<8xf32>, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    // expected-error@+1 {{loop.load map must not have symbols}}
    %b = loop.load %B[%i] affine_map<(d0)[s0] -> (d0 + s0)> : memref<8xf32>
  }
  func.return
}

// -----

func.func @load_result_type(%B: memref<8xf32>, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    // expected-error@+1 {{result type f64 does not match the element type f32}}
    %b = "loop.load"(%B, %i) <{map = affine_map<(d0) -> (d0)>}> : (memref<8xf32>, index) -> f64
  }
  func.return
}

// -----

func.func @store_value_type(%B: memref<8xf32>, %x: f64, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    // expected-error@+1 {{stored value type f64 does not match the element type f32}}
    "loop.store"(%x, %B, %i) <{map = affine_map<(d0) -> (d0)>}> : (f64, memref<8xf32>, index) -> ()
  }
  func.return
}

// -----

func.func @yield_outside_nest() {
  // expected-error@+1 {{'loop.yield' expects parent op 'loop.nest'}}
  "loop.yield"() : () -> ()
}
