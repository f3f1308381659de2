// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s

// for i in range(n): prim.Loop with constant-true conditions -> scf.for over index; the
// counter is cast back to i64 for the body; size.int -> tensor.dim + index_cast.
// CHECK-LABEL: func.func @count(%x: tensor<?xf32>) -> (tensor<?xf32>, i64) {
// CHECK:         %{{.*}} = tensor.dim %x, %{{.*}} : tensor<?xf32>
// CHECK-NEXT:    %n = arith.index_cast %[[DIM:.*]] : index to i64
// CHECK:         %r, %r_1 = scf.for %i_index = %{{.*}} to %[[DIM]] step %{{.*}} iter_args(%y = %x, %k = %{{.*}}) -> (tensor<?xf32>, i64) {
// CHECK-NEXT:      %i = arith.index_cast %i_index : index to i64
// CHECK:           %{{.*}} = arith.addi %k, %i : i64
// CHECK:           scf.yield %{{.*}}, %{{.*}} : tensor<?xf32>, i64
func.func @count(%x: !torch.vtensor<[?],f32>) -> (!torch.vtensor<[?],f32>, !torch.int) {
  %int0 = torch.constant.int 0
  %true = torch.constant.bool true
  %n = torch.aten.size.int %x, %int0 : !torch.vtensor<[?],f32>, !torch.int -> !torch.int
  %r:2 = torch.prim.Loop %n, %true, init(%x, %int0) {
  ^bb0(%i: !torch.int, %y: !torch.vtensor<[?],f32>, %k: !torch.int):
    %t = torch.aten.tanh %y : !torch.vtensor<[?],f32> -> !torch.vtensor<[?],f32>
    %k2 = torch.aten.add.int %k, %i : !torch.int, !torch.int -> !torch.int
    torch.prim.Loop.condition %true, iter(%t, %k2 : !torch.vtensor<[?],f32>, !torch.int)
  } : (!torch.int, !torch.bool, !torch.vtensor<[?],f32>, !torch.int) -> (!torch.vtensor<[?],f32>, !torch.int)
  func.return %r#0, %r#1 : !torch.vtensor<[?],f32>, !torch.int
}

// A while loop: scf.while carrying the i64 counter and the continue flag; it runs while
// counter < max_trip_count and the flag holds.
// CHECK-LABEL: func.func @while(%x: tensor<3xf32>, %c: i1) -> tensor<3xf32> {
// CHECK:         %{{.*}}, %r = scf.while (%[[IT:.*]] = %{{.*}}, %[[GO:.*]] = %c, %[[Y:.*]] = %x) : (i64, i1, tensor<3xf32>) -> (i64, tensor<3xf32>) {
// CHECK-NEXT:      %[[BELOW:.*]] = arith.cmpi slt, %[[IT]], %{{.*}} : i64
// CHECK-NEXT:      %[[BOTH:.*]] = arith.andi %[[BELOW]], %[[GO]] : i1
// CHECK-NEXT:      scf.condition(%[[BOTH]]) %[[IT]], %[[Y]] : i64, tensor<3xf32>
// CHECK-NEXT:    } do {
// CHECK-NEXT:    ^bb0(%it: i64, %y: tensor<3xf32>):
// CHECK:           %[[NEXT:.*]] = arith.addi %it, %{{.*}} : i64
// CHECK-NEXT:      scf.yield %[[NEXT]], %{{.*}}, %{{.*}} : i64, i1, tensor<3xf32>
// CHECK:         func.return %r : tensor<3xf32>
func.func @while(%x: !torch.vtensor<[3],f32>, %c: !torch.bool) -> !torch.vtensor<[3],f32> {
  %max = torch.constant.int 9223372036854775807
  %r = torch.prim.Loop %max, %c, init(%x) {
  ^bb0(%it: !torch.int, %y: !torch.vtensor<[3],f32>):
    %t = torch.aten.tanh %y : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
    %int5 = torch.constant.int 5
    %more = torch.aten.lt.int %it, %int5 : !torch.int, !torch.int -> !torch.bool
    torch.prim.Loop.condition %more, iter(%t : !torch.vtensor<[3],f32>)
  } : (!torch.int, !torch.bool, !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
  func.return %r : !torch.vtensor<[3],f32>
}

// prim.If on Bool.Tensor: tensor.extract of the 0-d tensor, then scf.if with a tensor result.
// CHECK-LABEL: func.func @gate(%x: tensor<3xf32>, %s: tensor<i1>) -> tensor<3xf32> {
// CHECK-NEXT:    %b = tensor.extract %s[] : tensor<i1>
// CHECK-NEXT:    %r = scf.if %b -> (tensor<3xf32>) {
// CHECK-NEXT:      scf.yield %x : tensor<3xf32>
// CHECK-NEXT:    } else {
// CHECK:           scf.yield %{{.*}} : tensor<3xf32>
// CHECK-NEXT:    }
func.func @gate(%x: !torch.vtensor<[3],f32>, %s: !torch.vtensor<[],i1>) -> !torch.vtensor<[3],f32> {
  %b = torch.aten.Bool.Tensor %s : !torch.vtensor<[],i1> -> !torch.bool
  %r = torch.prim.If %b -> (!torch.vtensor<[3],f32>) {
    torch.prim.If.yield %x : !torch.vtensor<[3],f32>
  } else {
    %n = torch.aten.neg %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
    torch.prim.If.yield %n : !torch.vtensor<[3],f32>
  }
  func.return %r : !torch.vtensor<[3],f32>
}

// Python's % on ints takes the divisor's sign: remsi plus a fix-up; // is floordivsi; both
// check the divisor first (Python raises ZeroDivisionError).
// CHECK-LABEL: func.func @divmod(%a: i64, %b: i64) -> (i64, i64) {
// CHECK:         cf.assert %{{.*}}, "ZeroDivisionError: integer division by zero"
// CHECK-NEXT:    %q = arith.floordivsi %a, %b : i64
// CHECK:         cf.assert %{{.*}}, "ZeroDivisionError: integer modulo by zero"
// CHECK-NEXT:    %[[REM:.*]] = arith.remsi %a, %b : i64
// CHECK:         %r = arith.select %{{.*}}, %{{.*}}, %[[REM]] : i64
func.func @divmod(%a: !torch.int, %b: !torch.int) -> (!torch.int, !torch.int) {
  %q = torch.aten.floordiv.int %a, %b : !torch.int, !torch.int -> !torch.int
  %r = torch.aten.remainder.int %a, %b : !torch.int, !torch.int -> !torch.int
  func.return %q, %r : !torch.int, !torch.int
}

// Branches of different shapes (cat in one of them), joined by torch-shape-refinement to a `?`
// size through casts: each cast is a tensor.cast, the scf.if result has the `?` size.
// CHECK-LABEL: func.func @join(%x: tensor<2x3xf32>, %c: i1) -> tensor<?x3xf32> {
// CHECK-NEXT:    %r = scf.if %c -> (tensor<?x3xf32>) {
// CHECK:           %[[CAT:.*]] = tensor.insert_slice %x into %{{.*}}[2, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<4x3xf32>
// CHECK-NEXT:      %[[WIDE:.*]] = tensor.cast %[[CAT]] : tensor<4x3xf32> to tensor<?x3xf32>
// CHECK-NEXT:      scf.yield %[[WIDE]] : tensor<?x3xf32>
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[SAME:.*]] = tensor.cast %x : tensor<2x3xf32> to tensor<?x3xf32>
// CHECK-NEXT:      scf.yield %[[SAME]] : tensor<?x3xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    func.return %r : tensor<?x3xf32>
func.func @join(%x: !torch.vtensor<[2,3],f32>, %c: !torch.bool) -> !torch.vtensor<[?,3],f32> {
  %r = torch.prim.If %c -> (!torch.vtensor<[?,3],f32>) {
    %l = torch.prim.ListConstruct %x, %x : (!torch.vtensor<[2,3],f32>, !torch.vtensor<[2,3],f32>) -> !torch.list<vtensor>
    %int0 = torch.constant.int 0
    %d = torch.aten.cat %l, %int0 : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[4,3],f32>
    %w = torch.tensor_static_info_cast %d : !torch.vtensor<[4,3],f32> to !torch.vtensor<[?,3],f32>
    torch.prim.If.yield %w : !torch.vtensor<[?,3],f32>
  } else {
    %s = torch.tensor_static_info_cast %x : !torch.vtensor<[2,3],f32> to !torch.vtensor<[?,3],f32>
    torch.prim.If.yield %s : !torch.vtensor<[?,3],f32>
  }
  func.return %r : !torch.vtensor<[?,3],f32>
}
