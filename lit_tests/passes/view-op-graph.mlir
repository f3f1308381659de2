// RUN: xjit-opt %s -p view-op-graph -o %t.mlir 2>&1 | filecheck %s
// RUN: filecheck %s --check-prefix=SAME < %t.mlir
// RUN: xjit-opt %s -p 'view-op-graph{print-attrs=false print-result-types=false}' -o %t2.mlir 2>&1 | filecheck %s --check-prefix=BARE

// The op graph as Graphviz dot on stderr (MLIR's -view-op-graph): ops are nodes labelled with
// name, attributes and result types; block arguments are plain-text nodes; an op with regions is
// a cluster per region; SSA uses are edges (dashed from block arguments).

// CHECK:       digraph G {
// CHECK-NEXT:    compound=true;
// CHECK-NEXT:    subgraph cluster_1 {
// CHECK-NEXT:      label="func.func\nsym_name: \"gate\"\nfunction_type: (!torch.vtensor<[3],f3...";
// CHECK-NEXT:      [[FUNC:v[0-9]+]] [label="func.func", shape=box];
// CHECK-NEXT:      subgraph cluster_{{[0-9]+}} {
// CHECK-NEXT:        label="region #0";
// CHECK-NEXT:        [[X:arg[0-9]+]] [label="%x: !torch.vtensor<[3],f32>", shape=plaintext];
// CHECK-NEXT:        [[C:arg[0-9]+]] [label="%c: !torch.bool", shape=plaintext];
// CHECK-NEXT:        subgraph cluster_{{[0-9]+}} {
// CHECK-NEXT:          label="torch.prim.If\n!torch.vtensor<[3],f32>";
// CHECK-NEXT:          [[IF:v[0-9]+]] [label="torch.prim.If", shape=box];
// CHECK-NEXT:          subgraph cluster_{{[0-9]+}} {
// CHECK-NEXT:            label="region #0";
// CHECK-NEXT:            [[TANH:v[0-9]+]] [label="torch.aten.tanh\n!torch.vtensor<[3],f32>", shape=ellipse];
// CHECK-NEXT:            [[Y1:v[0-9]+]] [label="torch.prim.If.yield", shape=ellipse];
// CHECK-NEXT:          }
// CHECK-NEXT:          subgraph cluster_{{[0-9]+}} {
// CHECK-NEXT:            label="region #1";
// CHECK-NEXT:            [[NEG:v[0-9]+]] [label="torch.aten.neg\n!torch.vtensor<[3],f32>", shape=ellipse];
// CHECK-NEXT:            [[Y2:v[0-9]+]] [label="torch.prim.If.yield", shape=ellipse];
// CHECK-NEXT:          }
// CHECK-NEXT:        }
// CHECK-NEXT:        [[RET:v[0-9]+]] [label="func.return", shape=ellipse];
// CHECK-NEXT:      }
// CHECK-NEXT:    }
// CHECK-DAG:     [[C]] -> [[IF]] [style=dashed];
// CHECK-DAG:     [[X]] -> [[TANH]] [style=dashed];
// CHECK-DAG:     [[TANH]] -> [[Y1]];
// CHECK-DAG:     [[X]] -> [[NEG]] [style=dashed];
// CHECK-DAG:     [[NEG]] -> [[Y2]];
// CHECK-DAG:     [[IF]] -> [[RET]];
// CHECK:       }

// The IR itself passes through unchanged.
// SAME:        func.func @gate(%x: !torch.vtensor<[3],f32>, %c: !torch.bool) -> !torch.vtensor<[3],f32> {
// SAME-NEXT:     %0 = torch.prim.If %c -> (!torch.vtensor<[3],f32>) {

// BARE:        label="func.func";
// BARE:        [label="%x", shape=plaintext];
// BARE:        [label="torch.aten.tanh", shape=ellipse];

func.func @gate(%x: !torch.vtensor<[3],f32>, %c: !torch.bool) -> !torch.vtensor<[3],f32> {
  %0 = torch.prim.If %c -> (!torch.vtensor<[3],f32>) {
    %1 = torch.aten.tanh %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
    torch.prim.If.yield %1 : !torch.vtensor<[3],f32>
  } else {
    %2 = torch.aten.neg %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
    torch.prim.If.yield %2 : !torch.vtensor<[3],f32>
  }
  func.return %0 : !torch.vtensor<[3],f32>
}
