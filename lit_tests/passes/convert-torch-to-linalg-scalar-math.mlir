// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s
// RUN: xjit-opt %s -p convert-torch-to-linalg | xjit-opt | filecheck %s

// Scripted math.* and float `%` / `//` on !torch.float become `math`/`arith` on f64 with
// TorchScript's formulas: `a % b` is fmod(b + fmod(a, b), b) (arith.remf, C's fmod, which xjit
// adds to xDSL's arith), `a // b` is floor(a / b), math.floor gives an int.

// CHECK-LABEL: func.func @scalar_math(
// CHECK-SAME:    %a: f64, %b: f64) -> (f64, f64, f64, i64, i1)
func.func @scalar_math(%a: !torch.float, %b: !torch.float) -> (!torch.float, !torch.float, !torch.float, !torch.int, !torch.bool) {
  // CHECK-NEXT: %0 = math.sqrt %a : f64
  %0 = torch.aten.sqrt.float %a : !torch.float -> !torch.float
  // CHECK-NEXT: %1 = arith.remf %a, %b : f64
  // CHECK-NEXT: %2 = arith.addf %b, %1 : f64
  // CHECK-NEXT: %3 = arith.remf %2, %b : f64
  %1 = torch.aten.remainder.float %a, %b : !torch.float, !torch.float -> !torch.float
  // CHECK-NEXT: %4 = arith.divf %a, %b : f64
  // CHECK-NEXT: %5 = math.floor %4 : f64
  %2 = torch.aten.floordiv.float %a, %b : !torch.float, !torch.float -> !torch.float
  // CHECK-NEXT: %6 = math.floor %a : f64
  // CHECK-NEXT: %7 = arith.fptosi %6 : f64 to i64
  %3 = torch.aten.floor.float %a : !torch.float -> !torch.int
  // CHECK-NEXT: %8 = arith.constant 0x7ff0000000000000 : f64
  // CHECK-NEXT: %9 = math.absf %a : f64
  // CHECK-NEXT: %10 = arith.cmpf oeq, %9, %8 : f64
  %4 = torch.aten.isinf.float %a : !torch.float -> !torch.bool
  // CHECK-NEXT: func.return %0, %3, %5, %7, %10 : f64, f64, f64, i64, i1
  func.return %0, %1, %2, %3, %4 : !torch.float, !torch.float, !torch.float, !torch.int, !torch.bool
}
