// RUN: xjit-opt %s -p canonicalize | filecheck %s

// Torch canonicalizations (passes/torch_canonicalization.py) under upstream `canonicalize`:
// `identity=(arg, unit)` and `involution=True` facts of registry entries. A fold only happens
// when the replacement has exactly the result's type. (canonicalize also drops dead pure ops,
// so every result is returned.)

// CHECK-LABEL: func.func @folds(
// int x + 0, x - 0 (whatever finite alpha is, when constant), x * 1, x / 1, -(-x), t(t(w)),
// int x + 0.0 (float x + 0 is not x: -0.0 + 0 is +0.0), int x * 1:
// CHECK-NEXT:    func.return %i, %x, %x, %x, %x, %x, %w, %i, %i :
func.func @folds(%x: !torch.vtensor<[3,4],f32>, %w: !torch.vtensor<[5,4],f32>, %i: !torch.vtensor<[3,4],si64>) -> (!torch.vtensor<[3,4],si64>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.vtensor<[3,4],si64>, !torch.vtensor<[3,4],si64>) {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %float0 = torch.constant.float 0.0
  %float1 = torch.constant.float 1.0
  %int2 = torch.constant.int 2
  %0 = torch.aten.add.Scalar %i, %int0, %int1 : !torch.vtensor<[3,4],si64>, !torch.int, !torch.int -> !torch.vtensor<[3,4],si64>
  %1 = torch.aten.sub.Scalar %x, %float0, %int2 : !torch.vtensor<[3,4],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
  %2 = torch.aten.mul.Scalar %x, %int1 : !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %3 = torch.aten.div.Scalar %x, %float1 : !torch.vtensor<[3,4],f32>, !torch.float -> !torch.vtensor<[3,4],f32>
  %4 = torch.aten.mul.Scalar %x, %float1 : !torch.vtensor<[3,4],f32>, !torch.float -> !torch.vtensor<[3,4],f32>
  %n1 = torch.aten.neg %x : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %5 = torch.aten.neg %n1 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  %t1 = torch.aten.t %w : !torch.vtensor<[5,4],f32> -> !torch.vtensor<[4,5],f32>
  %6 = torch.aten.t %t1 : !torch.vtensor<[4,5],f32> -> !torch.vtensor<[5,4],f32>
  %7 = torch.aten.add.Scalar %i, %int0, %int2 : !torch.vtensor<[3,4],si64>, !torch.int, !torch.int -> !torch.vtensor<[3,4],si64>
  %8 = torch.aten.mul.Scalar %i, %int1 : !torch.vtensor<[3,4],si64>, !torch.int -> !torch.vtensor<[3,4],si64>
  func.return %0, %1, %2, %3, %4, %5, %6, %7, %8 : !torch.vtensor<[3,4],si64>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,4],f32>, !torch.vtensor<[3,4],si64>, !torch.vtensor<[3,4],si64>
}

// CHECK-LABEL: func.func @float_add_zero(
// float x + 0 keeps the add (-0.0 + 0 is +0.0); x - 0 * inf is NaN, not x.
// CHECK:         %0 = torch.aten.add.Scalar %x, %int0, %int1 :
// CHECK-NEXT:    %1 = torch.aten.sub.Scalar %x, %int0, %inf :
// CHECK-NEXT:    func.return %0, %1 :
func.func @float_add_zero(%x: !torch.vtensor<[3,4],f32>) -> (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>) {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %inf = torch.constant.float 0x7FF0000000000000
  %0 = torch.aten.add.Scalar %x, %int0, %int1 : !torch.vtensor<[3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
  %1 = torch.aten.sub.Scalar %x, %int0, %inf : !torch.vtensor<[3,4],f32>, !torch.int, !torch.float -> !torch.vtensor<[3,4],f32>
  func.return %0, %1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>
}

// CHECK-LABEL: func.func @no_folds(
// CHECK:         %int1 = torch.constant.int 1
// x + 1 is not x.
// CHECK:         %0 = torch.aten.add.Scalar %x, %int1, %int1 :
// int tensor + 0.0 is a float tensor (the shape rule promotes): not x.
// CHECK-NEXT:    %1 = torch.aten.add.Scalar %i, %float0, %int1 : !torch.vtensor<[3,4],si64>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
// alpha only known at run time.
// CHECK-NEXT:    %2 = torch.aten.add.Scalar %x, %int0, %alpha :
// other only known at run time.
// CHECK-NEXT:    %3 = torch.aten.add.Scalar %x, %s, %int1 :
// int / 1 and int * 1.0 are float tensors.
// CHECK-NEXT:    %4 = torch.aten.div.Scalar %i, %int1 : !torch.vtensor<[3,4],si64>, !torch.int -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    %5 = torch.aten.mul.Scalar %i, %float1 : !torch.vtensor<[3,4],si64>, !torch.float -> !torch.vtensor<[3,4],f32>
// A bool is not the number 0 or 1.
// CHECK-NEXT:    %6 = torch.aten.add.Scalar %b, %false, %int1 :
// CHECK-NEXT:    %7 = torch.aten.mul.Scalar %b, %true :
// The result knows more than x ([3,4] vs [?,4]): replacing it would lose the static shape.
// CHECK-NEXT:    %8 = torch.aten.add.Scalar %d, %int0, %int1 : !torch.vtensor<[?,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
// rsub declares no identity (0 - x is not x).
// CHECK-NEXT:    %9 = torch.aten.rsub.Scalar %x, %int0, %int1 :
// neg(t(w)) mixes two involutions: nothing cancels.
// CHECK-NEXT:    %t1 = torch.aten.t %w :
// CHECK-NEXT:    %10 = torch.aten.neg %t1 :
// t(t(d)) with a refined result type.
// CHECK-NEXT:    %u = torch.aten.t %d : !torch.vtensor<[?,4],f32> -> !torch.vtensor<[4,?],f32>
// CHECK-NEXT:    %11 = torch.aten.t %u : !torch.vtensor<[4,?],f32> -> !torch.vtensor<[3,4],f32>
// CHECK-NEXT:    func.return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11 :
func.func @no_folds(%x: !torch.vtensor<[3,4],f32>, %i: !torch.vtensor<[3,4],si64>, %alpha: !torch.int, %s: !torch.float, %b: !torch.vtensor<[3,4],i1>, %d: !torch.vtensor<[?,4],f32>, %w: !torch.vtensor<[5,4],f32>) -> (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],i1>, !torch.vtensor<[3,4],i1>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32>, !torch.vtensor<[3,4],f32>) {
  %int0 = torch.constant.int 0
  %int1 = torch.constant.int 1
  %float0 = torch.constant.float 0.0
  %float1 = torch.constant.float 1.0
  %false = torch.constant.bool false
  %true = torch.constant.bool true
  %0 = torch.aten.add.Scalar %x, %int1, %int1 : !torch.vtensor<[3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
  %1 = torch.aten.add.Scalar %i, %float0, %int1 : !torch.vtensor<[3,4],si64>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
  %2 = torch.aten.add.Scalar %x, %int0, %alpha : !torch.vtensor<[3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
  %3 = torch.aten.add.Scalar %x, %s, %int1 : !torch.vtensor<[3,4],f32>, !torch.float, !torch.int -> !torch.vtensor<[3,4],f32>
  %4 = torch.aten.div.Scalar %i, %int1 : !torch.vtensor<[3,4],si64>, !torch.int -> !torch.vtensor<[3,4],f32>
  %5 = torch.aten.mul.Scalar %i, %float1 : !torch.vtensor<[3,4],si64>, !torch.float -> !torch.vtensor<[3,4],f32>
  %6 = torch.aten.add.Scalar %b, %false, %int1 : !torch.vtensor<[3,4],i1>, !torch.bool, !torch.int -> !torch.vtensor<[3,4],i1>
  %7 = torch.aten.mul.Scalar %b, %true : !torch.vtensor<[3,4],i1>, !torch.bool -> !torch.vtensor<[3,4],i1>
  %8 = torch.aten.add.Scalar %d, %int0, %int1 : !torch.vtensor<[?,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
  %9 = torch.aten.rsub.Scalar %x, %int0, %int1 : !torch.vtensor<[3,4],f32>, !torch.int, !torch.int -> !torch.vtensor<[3,4],f32>
  %t1 = torch.aten.t %w : !torch.vtensor<[5,4],f32> -> !torch.vtensor<[4,5],f32>
  %10 = torch.aten.neg %t1 : !torch.vtensor<[4,5],f32> -> !torch.vtensor<[4,5],f32>
  %u = torch.aten.t %d : !torch.vtensor<[?,4],f32> -> !torch.vtensor<[4,?],f32>
  %11 = torch.aten.t %u : !torch.vtensor<[4,?],f32> -> !torch.vtensor<[3,4],f32>
  func.return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],i1>, !torch.vtensor<[3,4],i1>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f32>, !torch.vtensor<[3,4],f32>
}
