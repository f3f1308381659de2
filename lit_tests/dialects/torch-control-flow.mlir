// RUN: xjit-opt %s | xjit-opt | filecheck %s
// RUN: xjit-opt %s --print-op-generic | xjit-opt | filecheck %s
// RUN: xjit-opt %s -p canonicalize,cse | filecheck %s --check-prefix=CANON

// torch-mlir's structured control flow (prim.If, prim.Loop), tuple unpacking and scalar ops
// round-trip in torch-mlir's spelling.

// CHECK-LABEL: func.func @control_flow(
func.func @control_flow(%x: !torch.vtensor<[3],f32>, %c: !torch.bool, %n: !torch.int) -> (!torch.vtensor<[3],f32>, !torch.int) {
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  // CHECK:      %s = torch.aten.add.int %int1, %int2 : !torch.int, !torch.int -> !torch.int
  // CANON:      %int3 = torch.constant.int 3
  %s = torch.aten.add.int %int1, %int2 : !torch.int, !torch.int -> !torch.int
  %true = torch.constant.bool true
  // CHECK:      %0 = torch.prim.If %c -> (!torch.vtensor<[3],f32>) {
  // CHECK-NEXT:   %1 = torch.aten.neg %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  // CHECK-NEXT:   torch.prim.If.yield %1 : !torch.vtensor<[3],f32>
  // CHECK-NEXT: } else {
  // CHECK-NEXT:   torch.prim.If.yield %x : !torch.vtensor<[3],f32>
  // CHECK-NEXT: }
  %0 = torch.prim.If %c -> (!torch.vtensor<[3],f32>) {
    %1 = torch.aten.neg %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
    torch.prim.If.yield %1 : !torch.vtensor<[3],f32>
  } else {
    torch.prim.If.yield %x : !torch.vtensor<[3],f32>
  }
  // CHECK:      %2, %3 = torch.prim.Loop %n, %true, init(%0, %s) {
  // CHECK-NEXT: ^bb0(%i: !torch.int, %y: !torch.vtensor<[3],f32>, %k: !torch.int):
  // CHECK:        torch.prim.Loop.condition %6, iter(%4, %5 : !torch.vtensor<[3],f32>, !torch.int)
  // CHECK-NEXT: } : (!torch.int, !torch.bool, !torch.vtensor<[3],f32>, !torch.int) -> (!torch.vtensor<[3],f32>, !torch.int)
  // CANON:      torch.prim.Loop %n, %true, init(%0, %int3) {
  %2:2 = torch.prim.Loop %n, %true, init(%0, %s) {
  ^bb0(%i: !torch.int, %y: !torch.vtensor<[3],f32>, %k: !torch.int):
    %3 = torch.aten.tanh %y : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
    %4 = torch.aten.add.int %k, %i : !torch.int, !torch.int -> !torch.int
    %5 = torch.aten.lt.int %4, %n : !torch.int, !torch.int -> !torch.bool
    torch.prim.Loop.condition %5, iter(%3, %4 : !torch.vtensor<[3],f32>, !torch.int)
  } : (!torch.int, !torch.bool, !torch.vtensor<[3],f32>, !torch.int) -> (!torch.vtensor<[3],f32>, !torch.int)
  func.return %2#0, %2#1 : !torch.vtensor<[3],f32>, !torch.int
}

// A loop with one carried value prints its result type bare; a loop with none has no results.
// CHECK-LABEL: func.func @single_and_no_carried(
// CHECK:       torch.prim.Loop %n, %true, init(%x) {
// CHECK:       } : (!torch.int, !torch.bool, !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
// CHECK:       torch.prim.Loop %n, %true, init() {
// CHECK-NEXT:  ^{{bb[0-9]+}}(%j: !torch.int):
// CHECK-NEXT:    torch.prim.Loop.condition %true, iter()
func.func @single_and_no_carried(%x: !torch.vtensor<[3],f32>, %n: !torch.int) -> !torch.vtensor<[3],f32> {
  %true = torch.constant.bool true
  %0 = torch.prim.Loop %n, %true, init(%x) {
  ^bb0(%i: !torch.int, %y: !torch.vtensor<[3],f32>):
    torch.prim.Loop.condition %true, iter(%y : !torch.vtensor<[3],f32>)
  } : (!torch.int, !torch.bool, !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32>
  torch.prim.Loop %n, %true, init() {
  ^bb1(%j: !torch.int):
    torch.prim.Loop.condition %true, iter()
  } : (!torch.int, !torch.bool) -> ()
  func.return %0 : !torch.vtensor<[3],f32>
}

// A constant condition selects its branch; scalar ops of constants and sizes of static shapes fold.
// CANON-LABEL: func.func @folds(
// CANON-NEXT:    %int4 = torch.constant.int 4
// CANON-NEXT:    %false = torch.constant.bool false
// CANON-NEXT:    %0 = torch.aten.tanh %x
// CANON-NEXT:    func.return %0, %int4, %false
func.func @folds(%x: !torch.vtensor<[3,4],f32>) -> (!torch.vtensor<[3,4],f32>, !torch.int, !torch.bool) {
  %int1 = torch.constant.int 1
  %int7 = torch.constant.int 7
  %int2 = torch.constant.int 2
  %d = torch.aten.size.int %x, %int1 : !torch.vtensor<[3,4],f32>, !torch.int -> !torch.int
  %q = torch.aten.floordiv.int %int7, %int2 : !torch.int, !torch.int -> !torch.int
  %b = torch.aten.gt.int %q, %d : !torch.int, !torch.int -> !torch.bool
  %nb = torch.aten.__not__ %b : !torch.bool -> !torch.bool
  %0 = torch.prim.If %nb -> (!torch.vtensor<[3,4],f32>) {
    %1 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
    torch.prim.If.yield %1 : !torch.vtensor<[3,4],f32>
  } else {
    torch.prim.If.yield %x : !torch.vtensor<[3,4],f32>
  }
  func.return %0, %d, %b : !torch.vtensor<[3,4],f32>, !torch.int, !torch.bool
}

// CHECK-LABEL: func.func @tuples_and_tensor_scalars(
// CHECK:         %a, %b = torch.prim.TupleUnpack %t : !torch.tuple<vtensor<[3],f32>, int> -> !torch.vtensor<[3],f32>, !torch.int
// CHECK:         %c = torch.aten.Bool.Tensor %s : !torch.vtensor<[],i1> -> !torch.bool
// CHECK:         %l0, %l1 = torch.prim.ListUnpack %l : !torch.list<int> -> !torch.int, !torch.int
func.func @tuples_and_tensor_scalars(%t: !torch.tuple<vtensor<[3],f32>, int>, %s: !torch.vtensor<[],i1>, %l: !torch.list<int>) -> (!torch.bool, !torch.int) {
  %a, %b = torch.prim.TupleUnpack %t : !torch.tuple<vtensor<[3],f32>, int> -> !torch.vtensor<[3],f32>, !torch.int
  %c = torch.aten.Bool.Tensor %s : !torch.vtensor<[],i1> -> !torch.bool
  %l0, %l1 = torch.prim.ListUnpack %l : !torch.list<int> -> !torch.int, !torch.int
  func.return %c, %b : !torch.bool, !torch.int
}
