// RUN: xjit-opt %s --split-input-file --verify-diagnostics
// RUN: not xjit-opt %s --split-input-file 2>&1 | filecheck %s
// Programs that parse but are wrong: the verifier rejects each, at the op.

func.func @undeclared_slot() -> !torch.vtensor<[3],f32> {
  // expected-error@+1 {{global slot @nope is not declared}}
  %w = torch.global_slot.get @nope : !torch.vtensor<[3],f32>
  func.return %w : !torch.vtensor<[3],f32>
}
// CHECK: invalid-programs.mlir:7:3: error: 'torch.global_slot.get' op global slot @nope is not declared

// -----

torch.global_slot "private" @w : !torch.vtensor<[4],f32>
func.func @slot_type() -> !torch.vtensor<[3],f32> {
  // expected-error@+1 {{global slot @w has type !torch.vtensor<[4],f32>, but is read as !torch.vtensor<[3],f32>}}
  %w = torch.global_slot.get @w : !torch.vtensor<[3],f32>
  func.return %w : !torch.vtensor<[3],f32>
}
// CHECK: invalid-programs.mlir:17:3: error: 'torch.global_slot.get' op global slot @w has type

// -----

// torch.where raises for a condition that is not bool.
func.func @where_float_condition(%c: !torch.vtensor<[3],f32>, %x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  // expected-error@+1 {{the condition must be a bool tensor, got !torch.vtensor<[3],f32>}}
  %0 = torch.aten.where.self %c, %x, %x : !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32>, !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
// CHECK: invalid-programs.mlir:27:3: error: 'torch.aten.where.self' op torch.aten.where.self: the condition must be a bool tensor

// -----

func.func @where_int_condition(%c: !torch.vtensor<[3],si64>, %x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %f = torch.constant.float 1.0
  // expected-error@+1 {{the condition must be a bool tensor}}
  %0 = torch.aten.where.ScalarOther %c, %x, %f : !torch.vtensor<[3],si64>, !torch.vtensor<[3],f32>, !torch.float -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}

// -----

// A reduction with nothing to reduce into.
func.func @reduction_without_store(%m: memref<4xf32>) {
  %c4 = arith.constant 4 : index
  // expected-error@+1 {{a nest with a 'reduction' iterator must store its accumulator (no loop.store in the body)}}
  loop.nest (%i) to (%c4) ["reduction"] {
    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}
// CHECK: invalid-programs.mlir:47:3: error: 'loop.nest' op a nest with a 'reduction' iterator must store

// -----

// Constant bounds and a static memref: an access outside it is caught before it runs.
func.func @load_out_of_bounds(%m: memref<4xf32>, %out: memref<4xf32>) {
  %c4 = arith.constant 4 : index
  loop.nest (%i) to (%c4) ["parallel"] {
    // expected-error@+1 {{loop.load index 0 = (d0 + 2) ranges over [2, 5] in this nest, outside dimension 0 of memref<4xf32> (size 4)}}
    %a = loop.load %m[%i] affine_map<(d0) -> (d0 + 2)> : memref<4xf32>
    loop.store %a, %out[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}
// CHECK: invalid-programs.mlir:61:5: error: 'loop.load' op loop.load index 0 = (d0 + 2) ranges over [2, 5]

// -----

func.func @store_out_of_bounds(%m: memref<4x3xf32>, %out: memref<2x3xf32>) {
  %c4 = arith.constant 4 : index
  %c3 = arith.constant 3 : index
  loop.nest (%i, %j) to (%c4, %c3) ["parallel", "parallel"] {
    %a = loop.load %m[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x3xf32>
    // expected-error@+1 {{loop.store index 1 = (d1 + -1) ranges over [-1, 1] in this nest, outside dimension 1 of memref<2x3xf32> (size 3)}}
    loop.store %a, %out[%i, %j] affine_map<(d0, d1) -> (d0 floordiv 2, d1 - 1)> : memref<2x3xf32>
  }
  func.return
}

// -----

// In bounds, including through floordiv and mod: valid.
func.func @in_bounds(%m: memref<4x3xf32>, %out: memref<2x3xf32>) {
  %c4 = arith.constant 4 : index
  %c3 = arith.constant 3 : index
  loop.nest (%i, %j) to (%c4, %c3) ["parallel", "parallel"] {
    %a = loop.load %m[%i, %j] affine_map<(d0, d1) -> (3 - d0, (d1 + 1) mod 3)> : memref<4x3xf32>
    loop.store %a, %out[%i, %j] affine_map<(d0, d1) -> (d0 floordiv 2, d1)> : memref<2x3xf32>
  }
  func.return
}
// CHECK: func.func @in_bounds
