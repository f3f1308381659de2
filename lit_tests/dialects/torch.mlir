// RUN: xjit-opt %s | xjit-opt | filecheck %s
// RUN: xjit-opt %s --print-op-generic | xjit-opt | filecheck %s
// RUN: xjit-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// The torch dialect round-trips in torch-mlir's spelling, directly and through the generic form:
// every type form, constants, prim ops, global slots and every registered torch.aten op.

// Both visibilities of a slot: a public one prints without a visibility and must parse back.
// CHECK:      torch.global_slot "private" @linear.weight : !torch.vtensor<[4,4],f32>
// CHECK-NEXT: torch.global_slot @public_slot {note = "kept"} : !torch.vtensor<[4],f32>
// GENERIC:      "torch.global_slot"() <{sym_name = "linear.weight", type = !torch.vtensor<[4,4],f32>, sym_visibility = "private"}> : () -> ()
// GENERIC-NEXT: "torch.global_slot"() <{sym_name = "public_slot", type = !torch.vtensor<[4],f32>}> {note = "kept"} : () -> ()
torch.global_slot "private" @linear.weight : !torch.vtensor<[4,4],f32>
torch.global_slot @public_slot {note = "kept"} : !torch.vtensor<[4],f32>

// CHECK-LABEL: func.func @types(
// CHECK-SAME:    %a: !torch.vtensor<[3,4],f32>, %b: !torch.vtensor<[?,4],f32>, %c: !torch.vtensor<*,si64>,
// CHECK-SAME:    %d: !torch.vtensor, %e: !torch.int, %f: !torch.float, %g: !torch.bool, %h: !torch.none,
// CHECK-SAME:    %i: !torch.number, %j: !torch.str, %k: !torch.list<int>, %l: !torch.tuple<vtensor<[3],f32>, int>,
// CHECK-SAME:    %m: !torch.vtensor<[2],f64>, %n: !torch.vtensor<[2],si32>, %o: !torch.vtensor<[2],i1>,
// CHECK-SAME:    %p: !torch.vtensor<[3],unk>, %q: !torch.list<vtensor<[3],f32>>, %r: !torch.tuple<>,
// An unranked tensor of unknown dtype is the bare type.
// CHECK-SAME:    %s: !torch.vtensor, %t: !torch.vtensor<[],f32>) {
// CHECK-NEXT:    func.return
// GENERIC-LABEL: "func.func"() <{sym_name = "types", function_type = (!torch.vtensor<[3,4],f32>, !torch.vtensor<[?,4],f32>, !torch.vtensor<*,si64>, !torch.vtensor, !torch.int, !torch.float, !torch.bool, !torch.none, !torch.number, !torch.str, !torch.list<int>, !torch.tuple<vtensor<[3],f32>, int>,
func.func @types(%a: !torch.vtensor<[3,4],f32>, %b: !torch.vtensor<[?,4],f32>, %c: !torch.vtensor<*,si64>,
                 %d: !torch.vtensor, %e: !torch.int, %f: !torch.float, %g: !torch.bool, %h: !torch.none,
                 %i: !torch.number, %j: !torch.str, %k: !torch.list<int>, %l: !torch.tuple<vtensor<[3],f32>, int>,
                 %m: !torch.vtensor<[2],f64>, %n: !torch.vtensor<[2],si32>, %o: !torch.vtensor<[2],i1>,
                 %p: !torch.vtensor<[3],unk>, %q: !torch.list<vtensor<[3],f32>>, %r: !torch.tuple<>,
                 %s: !torch.vtensor<*,unk>, %t: !torch.vtensor<[],f32>) {
  func.return
}

// CHECK-LABEL: func.func @constants_and_prims() -> !torch.tuple<int, int, float, float, bool, bool, none, list<int>, vtensor<[2],f32>, vtensor<[4,4],f32>> {
// CHECK-NEXT:    %int3 = torch.constant.int 3
// CHECK-NEXT:    %intm2 = torch.constant.int -2
// CHECK-NEXT:    %f = torch.constant.float 1.500000e+00
// CHECK-NEXT:    %fm = torch.constant.float -2.500000e-01
// CHECK-NEXT:    %true = torch.constant.bool true
// CHECK-NEXT:    %false = torch.constant.bool false
// CHECK-NEXT:    %none = torch.constant.none
// CHECK-NEXT:    %lit = torch.vtensor.literal(dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
// CHECK-NEXT:    %list = torch.prim.ListConstruct %int3, %intm2 : (!torch.int, !torch.int) -> !torch.list<int>
// CHECK-NEXT:    %w = torch.global_slot.get @linear.weight : !torch.vtensor<[4,4],f32>
// CHECK-NEXT:    %tup = torch.prim.TupleConstruct %int3, %intm2, %f, %fm, %true, %false, %none, %list, %lit, %w : !torch.int, !torch.int, !torch.float, !torch.float, !torch.bool, !torch.bool, !torch.none, !torch.list<int>, !torch.vtensor<[2],f32>, !torch.vtensor<[4,4],f32> -> !torch.tuple<int, int, float, float, bool, bool, none, list<int>, vtensor<[2],f32>, vtensor<[4,4],f32>>
// CHECK-NEXT:    func.return %tup : !torch.tuple<int, int, float, float, bool, bool, none, list<int>, vtensor<[2],f32>, vtensor<[4,4],f32>>
// GENERIC:       %int3 = "torch.constant.int"() <{value = 3 : i64}> : () -> !torch.int
// GENERIC:       %f = "torch.constant.float"() <{value = 1.500000e+00 : f64}> : () -> !torch.float
// GENERIC:       %true = "torch.constant.bool"() <{value = true}> : () -> !torch.bool
// GENERIC:       %none = "torch.constant.none"() : () -> !torch.none
// GENERIC:       %lit = "torch.vtensor.literal"() <{value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>}> : () -> !torch.vtensor<[2],f32>
// GENERIC:       %list = "torch.prim.ListConstruct"(%int3, %intm2) : (!torch.int, !torch.int) -> !torch.list<int>
// GENERIC:       %w = "torch.global_slot.get"() <{slot = @linear.weight}> : () -> !torch.vtensor<[4,4],f32>
// GENERIC:       %tup = "torch.prim.TupleConstruct"(%int3, %intm2, %f, %fm, %true, %false, %none, %list, %lit, %w)
func.func @constants_and_prims() -> !torch.tuple<int, int, float, float, bool, bool, none, list<int>, vtensor<[2],f32>, vtensor<[4,4],f32>> {
  %int3 = torch.constant.int 3
  %intm2 = torch.constant.int -2
  %f = torch.constant.float 1.5
  %fm = torch.constant.float -0.25
  %true = torch.constant.bool true
  %false = torch.constant.bool false
  %none = torch.constant.none
  %lit = torch.vtensor.literal(dense<[1.0, 2.0]> : tensor<2xf32>) : !torch.vtensor<[2],f32>
  %list = torch.prim.ListConstruct %int3, %intm2 : (!torch.int, !torch.int) -> !torch.list<int>
  %w = torch.global_slot.get @linear.weight : !torch.vtensor<[4,4],f32>
  %tup = torch.prim.TupleConstruct %int3, %intm2, %f, %fm, %true, %false, %none, %list, %lit, %w : !torch.int, !torch.int, !torch.float, !torch.float, !torch.bool, !torch.bool, !torch.none, !torch.list<int>, !torch.vtensor<[2],f32>, !torch.vtensor<[4,4],f32> -> !torch.tuple<int, int, float, float, bool, bool, none, list<int>, vtensor<[2],f32>, vtensor<[4,4],f32>>
  func.return %tup : !torch.tuple<int, int, float, float, bool, bool, none, list<int>, vtensor<[2],f32>, vtensor<[4,4],f32>>
}

// Every registered aten op (python -c "from xjit.ops.registry import all_ops; ..."), with
// constant and non-constant scalars, broadcasting, int tensors and int -> float promotion.
// CHECK-LABEL: func.func @aten(
// CHECK:         %0 = torch.aten.neg %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %1 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %2 = torch.aten.relu %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %3 = torch.aten.sigmoid %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %4 = torch.aten.exp %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %5 = torch.aten.add.Tensor %x, %y, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %6 = torch.aten.add.Scalar %x, %float5, %int2 : !torch.vtensor<[3,4],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %7 = torch.aten.sub.Tensor %x, %y, %fl : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32>, !torch.float -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %8 = torch.aten.sub.Scalar %x, %n, %int1 : !torch.vtensor<[3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %9 = torch.aten.rsub.Scalar %x, %float5, %int1 : !torch.vtensor<[3,4],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %10 = torch.aten.mul.Tensor %x, %y : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %11 = torch.aten.mul.Scalar %i, %int2 : !torch.vtensor<[3,4],si64>, !torch.int -> !torch.vtensor<[3,4],si64>
// CHECK-NEXT:    %12 = torch.aten.div.Tensor %i, %i : !torch.vtensor<[3,4],si64>, !torch.vtensor<[3,4],si64> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %13 = torch.aten.div.Scalar %x, %float5 : !torch.vtensor<[3,4],f32>, !torch.float -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %14 = torch.aten.reciprocal %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %15 = torch.aten.mm %x, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %16 = torch.aten.t %w : !torch.vtensor<[5,4],f32> -> !torch.vtensor<[4,5],f32>
// CHECK-NEXT:    %17 = torch.aten.linear %x, %w, %b : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.vtensor<[5],f32> -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %18 = torch.aten.linear %x, %w, %none : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.none -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %19 = torch.aten.addmm %s, %x, %m, %float5, %int2 : !torch.vtensor<[3,5],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,5],f32>
// CHECK-NEXT:    %20 = torch.aten.matmul %x, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
// A dynamic dim, and a result that knows less than the rule derives.
// CHECK-NEXT:    %21 = torch.aten.mul.Tensor %d, %y : !torch.vtensor<[?,4],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[?,4],f32>
// CHECK-NEXT:    %22 = torch.aten.mm %d, %m : !torch.vtensor<[?,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[?,?],f32>
// CHECK-NEXT:    %23 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<*,f32>
// CHECK-NEXT:    func.return
// GENERIC:       %5 = "torch.aten.add.Tensor"(%x, %y, %int1) : (!torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32>, !torch.int) -> !torch.vtensor<[3,4],f32>
// GENERIC:       %18 = "torch.aten.linear"(%x, %w, %none) : (!torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.none) -> !torch.vtensor<[3,5],f32>
func.func @aten(%x: !torch.vtensor<[3,4],f32>, %y: !torch.vtensor<[4],f32>, %w: !torch.vtensor<[5,4],f32>,
                %b: !torch.vtensor<[5],f32>, %m: !torch.vtensor<[4,5],f32>, %s: !torch.vtensor<[3,5],f32>,
                %i: !torch.vtensor<[3,4],si64>, %d: !torch.vtensor<[?,4],f32>, %n: !torch.int, %fl: !torch.float) {
  %int1 = torch.constant.int 1
  %int2 = torch.constant.int 2
  %float5 = torch.constant.float 0.5
  %none = torch.constant.none
  %0 = torch.aten.neg %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %1 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %2 = torch.aten.relu %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %3 = torch.aten.sigmoid %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %4 = torch.aten.exp %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %5 = torch.aten.add.Tensor %x, %y, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %6 = torch.aten.add.Scalar %x, %float5, %int2 : !torch.vtensor<[3,4],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
  %7 = torch.aten.sub.Tensor %x, %y, %fl : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32>, !torch.float -> !torch.vtensor<[3,4],f32>
  %8 = torch.aten.sub.Scalar %x, %n, %int1 : !torch.vtensor<[3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
  %9 = torch.aten.rsub.Scalar %x, %float5, %int1 : !torch.vtensor<[3,4],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
  %10 = torch.aten.mul.Tensor %x, %y : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[3,4],f32>
  %11 = torch.aten.mul.Scalar %i, %int2 : !torch.vtensor<[3,4],si64>, !torch.int -> !torch.vtensor<[3,4],si64>
  %12 = torch.aten.div.Tensor %i, %i : !torch.vtensor<[3,4],si64>, !torch.vtensor<[3,4],si64> -> !torch.vtensor<[3,4],f32>
  %13 = torch.aten.div.Scalar %x, %float5 : !torch.vtensor<[3,4],f32>, !torch.float -> !torch.vtensor<[3,4],f32>
  %14 = torch.aten.reciprocal %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %15 = torch.aten.mm %x, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
  %16 = torch.aten.t %w : !torch.vtensor<[5,4],f32> -> !torch.vtensor<[4,5],f32>
  %17 = torch.aten.linear %x, %w, %b : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.vtensor<[5],f32> -> !torch.vtensor<[3,5],f32>
  %18 = torch.aten.linear %x, %w, %none : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.none -> !torch.vtensor<[3,5],f32>
  %19 = torch.aten.addmm %s, %x, %m, %float5, %int2 : !torch.vtensor<[3,5],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,5],f32>
  %20 = torch.aten.matmul %x, %m : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[3,5],f32>
  %21 = torch.aten.mul.Tensor %d, %y : !torch.vtensor<[?,4],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[?,4],f32>
  %22 = torch.aten.mm %d, %m : !torch.vtensor<[?,4],f32>, !torch.vtensor<[4,5],f32> -> !torch.vtensor<[?,?],f32>
  %23 = torch.aten.tanh %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<*,f32>
  func.return
}
