// RUN: xjit-opt %s --verify-diagnostics --split-input-file | filecheck %s
// As with xdsl-opt: the expected verifier error is printed and the run succeeds.

func.func @bad_kinds(%m: memref<4xf32>, %n: index) {
  loop.nest (%i) to (%n) ["parallel", "reduction"] {
    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}

// CHECK: expected 1 iterator kinds (one per bound), got 2
// CHECK: "loop.nest"(%n) <{iterators = ["parallel", "reduction"]}>
// CHECK: Operation does not verify: expected 1 iterator kinds (one per bound), got 2

// -----

func.func @bad_kind_name(%m: memref<4xf32>, %n: index) {
  loop.nest (%i) to (%n) ["sequential"] {
    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}

// CHECK: unknown iterator kind 'sequential'
