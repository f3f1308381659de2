// RUN: xjit-opt %s -p convert-torch-to-linalg | filecheck %s

// torch.prim.RaiseException becomes a `cf.assert` that always fails, its message prefixed so the
// runtime raises xjit.jit.Error: the class (RuntimeError for an assert's None), the message
// with its constant format values filled in and a run-time one as `?`, and the raising line.

// CHECK-LABEL: func.func @raise(
func.func @raise(%c: !torch.bool, %m: !torch.int) {
  %msg = torch.constant.str "got {}D input, {}"
  %cls = torch.constant.str "builtins.ValueError"
  %amsg = torch.constant.str "AssertionError: bad"
  %none = torch.constant.none
  %int3 = torch.constant.int 3
  // CHECK:      scf.if %c {
  // CHECK-NEXT:   %[[F:.*]] = arith.constant false
  // CHECK-NEXT:   cf.assert %[[F]], "xjit.raise: model.py:7: builtins.ValueError: got 3D input, ?"
  // CHECK:      } else {
  // CHECK-NEXT:   %[[G:.*]] = arith.constant false
  // CHECK-NEXT:   cf.assert %[[G]], "xjit.raise: RuntimeError: AssertionError: bad"
  torch.prim.If %c {
    torch.prim.RaiseException %msg, %cls, %int3, %m : !torch.str, !torch.str, !torch.int, !torch.int loc("model.py":7:9)
    torch.prim.If.yield
  } else {
    torch.prim.RaiseException %amsg, %none : !torch.str, !torch.none
    torch.prim.If.yield
  }
  func.return
}
