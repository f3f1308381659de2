// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p convert-torch-to-linalg,bufferize | filecheck %s --check-prefix=BUF
// RUN: xjit-opt %s -p torch-to-loops | filecheck %s --check-prefix=LOOPS
// RUN: xjit-opt %s -p torch-to-loops -t numpy | filecheck %s --check-prefix=NUMPY

// nonzero's row count is the data's: a reduction counts the nonzeros (NaN is nonzero: `une`),
// the count sizes a `tensor.empty` with a `?` dim, and scatter.nonzero fills it with their
// coordinates; bufferize fills the fresh buffer in place; the op stays whole through the
// loops stage and the numpy backend emits np.argwhere into the buffer.

// CHECK-LABEL: func.func @nonzero
// CHECK:         %[[COUNT:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "reduction"]{{.*}} ins(%x : tensor<2x3xf32>) outs(%{{.*}} : tensor<i64>)
// CHECK:           %[[NZ:.*]] = arith.cmpf une, %{{.*}}, %{{.*}} : f32
// CHECK-NEXT:      %[[ONE:.*]] = arith.extui %[[NZ]] : i1 to i64
// CHECK-NEXT:      %[[SUM:.*]] = arith.addi %[[ONE]], %{{.*}} : i64
// CHECK-NEXT:      linalg.yield %[[SUM]] : i64
// CHECK:         %[[N:.*]] = tensor.extract %[[COUNT]][] : tensor<i64>
// CHECK-NEXT:    %[[ROWS:.*]] = arith.index_cast %[[N]] : i64 to index
// CHECK-NEXT:    %[[E:.*]] = tensor.empty(%[[ROWS]]) : tensor<?x2xi64>
// CHECK-NEXT:    %[[R:.*]] = scatter.nonzero %x into %[[E]] : tensor<2x3xf32> into tensor<?x2xi64> -> tensor<?x2xi64>
// CHECK-NEXT:    func.return %[[R]] : tensor<?x2xi64>
// BUF-LABEL: func.func @nonzero
// BUF:         %[[ROWS:.*]] = arith.index_cast %{{.*}} : i64 to index
// BUF-NEXT:    %[[OUT:.*]] = memref.alloc(%[[ROWS]]) : memref<?x2xi64>
// BUF-NEXT:    scatter.nonzero %x into %[[OUT]] : memref<2x3xf32> into memref<?x2xi64>
// BUF-NEXT:    func.return %[[OUT]] : memref<?x2xi64>
// LOOPS-LABEL: func.func @nonzero
// LOOPS:         loop.nest (%{{.*}}, %{{.*}}) to (%c2, %c3) ["reduction", "reduction"]
// LOOPS:         %[[OUT:.*]] = memref.alloc(%{{.*}}) : memref<?x2xi64>
// LOOPS-NEXT:    scatter.nonzero %x into %[[OUT]] : memref<2x3xf32> into memref<?x2xi64>
// NUMPY-LABEL: def f_nonzero(arg0):
// NUMPY:         [[N:v[0-9]+]] = np.intp(
// NUMPY-NEXT:    [[OUT:buf[0-9]+]] = np.empty(([[N]], 2), _int64)
// NUMPY-NEXT:    np.copyto([[OUT]], np.argwhere(arg0))
// NUMPY-NEXT:    return ([[OUT]],)
func.func @nonzero(%x: !torch.vtensor<[2,3],f32>) -> !torch.vtensor<[?,2],si64> {
  %0 = torch.aten.nonzero %x : !torch.vtensor<[2,3],f32> -> !torch.vtensor<[?,2],si64>
  func.return %0 : !torch.vtensor<[?,2],si64>
}
