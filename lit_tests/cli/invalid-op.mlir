// RUN: not xjit-opt %s 2>&1 | filecheck %s
// IR that parses but does not verify: the diagnostic names the op and its location.

func.func @f(%m: memref<4xf32>, %n: index) {
  loop.nest (%i) to (%n) ["parallel", "reduction"] {
    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}

// CHECK: invalid-op.mlir:5:3: error: 'loop.nest' op expected 1 iterator kinds (one per bound), got 2
// CHECK-NEXT: {{^}}  loop.nest (%i) to (%n) ["parallel", "reduction"] {
// CHECK-NEXT: {{^}}  ^
// CHECK-NOT: Traceback
