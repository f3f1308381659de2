// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p convert-torch-to-linalg,bufferize | filecheck %s --check-prefix=BUF
// RUN: xjit-opt %s -p torch-to-loops | filecheck %s --check-prefix=LOOPS

// index_put (x[i] = v, index_put(accumulate=True)) lowers to elementwise generics that wrap
// negative indices (i + size) and check them against the size (cf.assert), a broadcast of
// the values to the update shape, and one scatter.index_put; bufferize writes it into a copy
// of x; convert-linalg-to-loop makes it a nest storing at indices computed in its body
// (accumulate: a load, an add and a store at those indices).

// CHECK-LABEL: func.func @put_rows
// CHECK:         %[[WRAP:.*]] = linalg.generic {{.*}} ins(%i, %{{.*}} : tensor<2xi64>, tensor<i64>) outs(%{{.*}} : tensor<2xi64>)
// CHECK:           %[[NEG:.*]] = arith.cmpi slt, %[[I:.*]], %{{.*}} : i64
// CHECK-NEXT:      %[[ADD:.*]] = arith.addi %[[I]], %{{.*}} : i64
// CHECK-NEXT:      %[[SEL:.*]] = arith.select %[[NEG]], %[[ADD]], %[[I]] : i64
// CHECK-NEXT:      linalg.yield %[[SEL]] : i64
// CHECK:         cf.assert %{{.*}}, "torch.aten.index_put.hacked_twin: index out of bounds for dimension 0 of self"
// CHECK:         %[[VALS:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>]{{.*}} ins(%v : tensor<3xf32>) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK:         %[[R:.*]] = scatter.index_put %[[VALS]] into %x[%[[WRAP]]] : tensor<2x3xf32> into tensor<4x3xf32>[tensor<2xi64>] -> tensor<4x3xf32>
// CHECK-NEXT:    func.return %[[R]] : tensor<4x3xf32>
// BUF-LABEL: func.func @put_rows
// BUF:         %[[COPY:.*]] = memref.alloc() : memref<4x3xf32>
// BUF-NEXT:    "memref.copy"(%x, %[[COPY]]) : (memref<4x3xf32>, memref<4x3xf32>) -> ()
// BUF-NEXT:    scatter.index_put %{{.*}} into %[[COPY]][%{{.*}}] : memref<2x3xf32> into memref<4x3xf32>[memref<2xi64>]
// BUF-NEXT:    func.return %[[COPY]] : memref<4x3xf32>
// LOOPS-LABEL: func.func @put_rows
// LOOPS:         %[[OUT:.*]] = memref.alloc() : memref<4x3xf32>
// LOOPS:         loop.nest (%[[A:.*]], %[[B:.*]]) to (%c2, %c3) ["parallel", "parallel"] {
// LOOPS-NEXT:      %[[L:.*]] = loop.load %{{.*}}[%[[A]], %[[B]]] affine_map<(d0, d1) -> (d0)> : memref<2xi64>
// LOOPS-NEXT:      %[[C:.*]] = arith.index_cast %[[L]] : i64 to index
// LOOPS-NEXT:      %[[V:.*]] = loop.load %{{.*}}[%[[A]], %[[B]]] affine_map<(d0, d1) -> (d0, d1)> : memref<2x3xf32>
// LOOPS-NEXT:      loop.store %[[V]], %[[OUT]][%[[C]], %[[B]]] affine_map<(d0, d1) -> (d0, d1)> : memref<4x3xf32>
// LOOPS-NEXT:    }
// LOOPS-NEXT:    func.return %[[OUT]] : memref<4x3xf32>
func.func @put_rows(%x: !torch.vtensor<[4,3],f32>, %i: !torch.vtensor<[2],si64>, %v: !torch.vtensor<[3],f32>) -> !torch.vtensor<[4,3],f32> {
  %false = torch.constant.bool false
  %0 = torch.prim.ListConstruct %i : (!torch.vtensor<[2],si64>) -> !torch.list<vtensor>
  %1 = torch.aten.index_put.hacked_twin %x, %0, %v, %false : !torch.vtensor<[4,3],f32>, !torch.list<vtensor>, !torch.vtensor<[3],f32>, !torch.bool -> !torch.vtensor<[4,3],f32>
  func.return %1 : !torch.vtensor<[4,3],f32>
}

// CHECK-LABEL: func.func @accumulate
// CHECK:         cf.assert %{{.*}}, "torch.aten.index_put.hacked_twin: index out of bounds for dimension 0 of self"
// CHECK:         cf.assert %{{.*}}, "torch.aten.index_put.hacked_twin: index out of bounds for dimension 1 of self"
// CHECK-NEXT:    scatter.index_put %v into %x[%{{.*}}, %{{.*}}] {accumulate} : tensor<5xf32> into tensor<4x3xf32>[tensor<5xi64>, tensor<5xi64>] -> tensor<4x3xf32>
// LOOPS-LABEL: func.func @accumulate
// LOOPS:         %[[OUT:.*]] = memref.alloc() : memref<4x3xf32>
// LOOPS:         loop.nest (%[[K:.*]]) to (%c5) ["reduction"] {
// LOOPS-NEXT:      %[[I0:.*]] = loop.load %{{.*}}[%[[K]]] affine_map<(d0) -> (d0)> : memref<5xi64>
// LOOPS-NEXT:      %[[R0:.*]] = arith.index_cast %[[I0]] : i64 to index
// LOOPS-NEXT:      %[[I1:.*]] = loop.load %{{.*}}[%[[K]]] affine_map<(d0) -> (d0)> : memref<5xi64>
// LOOPS-NEXT:      %[[R1:.*]] = arith.index_cast %[[I1]] : i64 to index
// LOOPS-NEXT:      %[[V:.*]] = loop.load %v[%[[K]]] affine_map<(d0) -> (d0)> : memref<5xf32>
// LOOPS-NEXT:      %[[OLD:.*]] = loop.load %[[OUT]][%[[R0]], %[[R1]]] affine_map<(d0, d1) -> (d0, d1)> : memref<4x3xf32>
// LOOPS-NEXT:      %[[SUM:.*]] = arith.addf %[[OLD]], %[[V]] : f32
// LOOPS-NEXT:      loop.store %[[SUM]], %[[OUT]][%[[R0]], %[[R1]]] affine_map<(d0, d1) -> (d0, d1)> : memref<4x3xf32>
func.func @accumulate(%x: !torch.vtensor<[4,3],f32>, %i: !torch.vtensor<[5],si64>, %j: !torch.vtensor<[5],si64>, %v: !torch.vtensor<[5],f32>) -> !torch.vtensor<[4,3],f32> {
  %true = torch.constant.bool true
  %0 = torch.prim.ListConstruct %i, %j : (!torch.vtensor<[5],si64>, !torch.vtensor<[5],si64>) -> !torch.list<vtensor>
  %1 = torch.aten.index_put.hacked_twin %x, %0, %v, %true : !torch.vtensor<[4,3],f32>, !torch.list<vtensor>, !torch.vtensor<[5],f32>, !torch.bool -> !torch.vtensor<[4,3],f32>
  func.return %1 : !torch.vtensor<[4,3],f32>
}
