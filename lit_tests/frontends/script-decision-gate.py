# RUN: %python %s | filecheck %s

# Issue 3, tutorial step 3: scripting keeps MyDecisionGate's data-dependent branch as a
# torch.prim.If on bool(tensor) (torch.aten.Bool.Tensor), and `.code` shows it as if/else.
# Scripting MyCell(scripted_gate) calls the gate's forward as a private function.
import xjit as torch


class MyDecisionGate(torch.nn.Module):
  def forward(self, x):
    if x.sum() > 0:
      return x
    else:
      return -x


class MyCell(torch.nn.Module):
    def __init__(self, dg):
        super(MyCell, self).__init__()
        self.dg = dg
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


torch.manual_seed(0)
scripted_gate = torch.jit.script(MyDecisionGate())
print("// -- gate graph")
print(scripted_gate.graph)
print("// -- gate code")
print(scripted_gate.code)

# CHECK-LABEL: // -- gate graph
# CHECK:         func.func @forward(%x: !torch.vtensor) -> !torch.vtensor {
# CHECK-NEXT:      %none = torch.constant.none
# CHECK-NEXT:      %[[SUM:.*]] = torch.aten.sum %x, %none : !torch.vtensor, !torch.none -> !torch.vtensor
# CHECK-NEXT:      %[[ZERO:.*]] = torch.constant.int 0
# CHECK-NEXT:      %[[GT:.*]] = torch.aten.gt.Scalar %[[SUM]], %[[ZERO]] : !torch.vtensor, !torch.int -> !torch.vtensor<*,i1>
# CHECK-NEXT:      %[[COND:.*]] = torch.aten.Bool.Tensor %[[GT]] : !torch.vtensor<*,i1> -> !torch.bool
# CHECK-NEXT:      %[[R:.*]] = torch.prim.If %[[COND]] -> (!torch.vtensor) {
# CHECK-NEXT:        torch.prim.If.yield %x : !torch.vtensor
# CHECK-NEXT:      } else {
# CHECK-NEXT:        %[[NEG:.*]] = torch.aten.neg %x : !torch.vtensor -> !torch.vtensor
# CHECK-NEXT:        torch.prim.If.yield %[[NEG]] : !torch.vtensor
# CHECK-NEXT:      }
# CHECK-NEXT:      func.return %[[R]] : !torch.vtensor

# CHECK-LABEL: // -- gate code
# CHECK-NEXT:  def forward(self, x: Tensor) -> Tensor:
# CHECK-NEXT:    _0 = torch.sum(x)
# CHECK-NEXT:    _1 = torch.gt(_0, 0)
# CHECK-NEXT:    _2 = bool(_1)
# CHECK-NEXT:    if _2:
# CHECK-NEXT:      _3 = x
# CHECK-NEXT:    else:
# CHECK-NEXT:      _3 = torch.neg(x)
# CHECK-NEXT:    return _3

scripted_cell = torch.jit.script(MyCell(scripted_gate))
print("// -- cell graph")
print(scripted_cell.graph)
print("// -- cell code")
print(scripted_cell.code)

# The submodules are private functions called from forward; `.code` calls them as self.<name>.
# CHECK-LABEL: // -- cell graph
# CHECK:         func.func @forward(%x: !torch.vtensor, %h: !torch.vtensor) -> (!torch.vtensor, !torch.vtensor) {
# CHECK-NEXT:      %[[LIN:.*]] = func.call @linear.forward(%x) : (!torch.vtensor) -> !torch.vtensor
# CHECK-NEXT:      %[[DG:.*]] = func.call @dg.forward(%[[LIN]]) : (!torch.vtensor) -> !torch.vtensor
# CHECK-NEXT:      %[[ONE:.*]] = torch.constant.int 1
# CHECK-NEXT:      %[[ADD:.*]] = torch.aten.add.Tensor %[[DG]], %h, %[[ONE]]
# CHECK-NEXT:      %new_h = torch.aten.tanh %[[ADD]]
# CHECK-NEXT:      func.return %new_h, %new_h
# CHECK:         func.func private @linear.forward(%input: !torch.vtensor) -> !torch.vtensor {
# CHECK:           torch.aten.linear %input, %linear_weight, %linear_bias
# CHECK:         func.func private @dg.forward(%x: !torch.vtensor) -> !torch.vtensor {
# CHECK:           %[[C:.*]] = torch.aten.Bool.Tensor
# CHECK-NEXT:      torch.prim.If %[[C]] -> (!torch.vtensor) {

# CHECK-LABEL: // -- cell code
# CHECK-NEXT:  def forward(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:
# CHECK-NEXT:    _0 = self.linear(x)
# CHECK-NEXT:    _1 = self.dg(_0)
# CHECK-NEXT:    _2 = torch.add(_1, h)
# CHECK-NEXT:    _3 = torch.tanh(_2)
# CHECK-NEXT:    return (_3, _3)
# CHECK-NOT:   def
