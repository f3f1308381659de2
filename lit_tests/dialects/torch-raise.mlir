// RUN: xjit-opt %s | xjit-opt | filecheck %s
// RUN: xjit-opt %s --print-op-generic | xjit-opt | filecheck %s
// RUN: xjit-opt %s -p canonicalize,cse,dce | filecheck %s --check-prefix=DCE

// torch.prim.RaiseException (torch-mlir's message and class operands, then the values of an
// f-string message) round-trips and, having effects, survives dead-code elimination.

// CHECK-LABEL: func.func @guards(
// DCE-LABEL:   func.func @guards(
func.func @guards(%c: !torch.bool, %n: !torch.int) {
  %msg = torch.constant.str "expected {}D input"
  %cls = torch.constant.str "builtins.ValueError"
  %amsg = torch.constant.str "AssertionError: n > 0"
  %none = torch.constant.none
  // CHECK:      torch.prim.If %c {
  // CHECK-NEXT:   torch.prim.RaiseException %msg, %cls, %n : !torch.str, !torch.str, !torch.int
  // CHECK-NEXT:   torch.prim.If.yield
  // CHECK-NEXT: } else {
  // CHECK-NEXT:   torch.prim.RaiseException %amsg, %none : !torch.str, !torch.none
  // DCE:          torch.prim.RaiseException %msg, %cls, %n : !torch.str, !torch.str, !torch.int
  // DCE:          torch.prim.RaiseException %amsg, %none : !torch.str, !torch.none
  torch.prim.If %c {
    torch.prim.RaiseException %msg, %cls, %n : !torch.str, !torch.str, !torch.int
    torch.prim.If.yield
  } else {
    torch.prim.RaiseException %amsg, %none : !torch.str, !torch.none
    torch.prim.If.yield
  }
  func.return
}
