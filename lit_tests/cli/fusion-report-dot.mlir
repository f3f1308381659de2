// RUN: xjit-opt %s -p linalg-fuse-elementwise,bufferize,convert-linalg-to-loop --fusion-report --format dot 2>&1 >/dev/null | filecheck %s
// RUN: xjit-opt %s -p linalg-fuse-elementwise,bufferize,convert-linalg-to-loop --fusion-report 2>&1 >/dev/null | filecheck %s --check-prefix=TEXT
// RUN: xjit-opt %s -p linalg-fuse-elementwise,bufferize,convert-linalg-to-loop --fusion-report --format dot | filecheck %s --check-prefix=STDOUT

// --fusion-report --format dot: the report as Graphviz dot on stderr (stdout stays the module);
// the default format stays the text report. tanh(x * a) fuses into one nest, the matmul after it does not; the dot text is
// rendered in tests/test_graph_pictures.py when Graphviz is installed.
func.func @chain(%x: tensor<4x8xf32>, %a: tensor<4x8xf32>, %w: tensor<8x2xf32>) -> tensor<4x2xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %mul = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %a : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %r = arith.mulf %p, %q : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.mul.Tensor"("chain.py":2:1))
  %tanh = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mul : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%p: f32, %o: f32):
    %r = math.tanh %p : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32> loc("aten.tanh"("chain.py":3:5))
  %z = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%z : f32) outs(%e2 : tensor<4x2xf32>) -> tensor<4x2xf32> loc("aten.mm"("chain.py":4:5))
  %mm = linalg.matmul ins(%tanh, %w : tensor<4x8xf32>, tensor<8x2xf32>) outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32> loc("aten.mm"("chain.py":4:5))
  func.return %mm : tensor<4x2xf32>
}

// CHECK:      digraph fusion {
// CHECK:        subgraph cluster_chain {
// CHECK-NEXT:     label="@chain";
// CHECK-NEXT:     subgraph cluster_chain_1 {
// CHECK-NEXT:       label="#1 (elementwise)";
// CHECK-NEXT:       chain_1_0 [label="aten.mul.Tensor (chain.py:2)"];
// CHECK-NEXT:       chain_1_1 [label="aten.tanh (chain.py:3)"];
// CHECK-NEXT:     }
// CHECK:          subgraph cluster_chain_2 {
// CHECK-NEXT:       label="#2 (fill)";
// CHECK:          subgraph cluster_chain_3 {
// CHECK-NEXT:       label="#3 (reduction)";
// CHECK-NEXT:       chain_3_0 [label="aten.mm (chain.py:4)"];
// CHECK:        chain_1_0 -> chain_3_0 [ltail=cluster_chain_1, lhead=cluster_chain_3];
// CHECK-NEXT:   chain_2_0 -> chain_3_0 [ltail=cluster_chain_2, lhead=cluster_chain_3];
// CHECK-NEXT: }
// CHECK-NOT:  loop nests

// TEXT:      @chain: 3 loop nests
// TEXT-NEXT:   #1 (elementwise):
// TEXT-NEXT:       aten.mul.Tensor (chain.py:2)
// TEXT-NEXT:       aten.tanh (chain.py:3)
// TEXT-NOT:  digraph

// STDOUT:     builtin.module {
// STDOUT:       func.func @chain(%x: memref<4x8xf32>
// STDOUT-NOT: digraph
