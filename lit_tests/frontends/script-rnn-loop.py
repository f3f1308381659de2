# RUN: %python %s | filecheck %s

# Issue 3, tutorial step 4: a scripted MyRNNLoop holding a traced MyCell (whose gate is
# scripted). The `for` over range(xs.size(0)) is a torch.prim.Loop carrying (y, h); the traced
# cell and the scripted gate inside it are private functions reached through func.call; `.code`
# shows the loop as a Python `for` calling self.cell.
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
x, h = torch.rand(3, 4), torch.rand(3, 4)
scripted_gate = torch.jit.script(MyDecisionGate())


class MyRNNLoop(torch.nn.Module):
    def __init__(self):
        super(MyRNNLoop, self).__init__()
        self.cell = torch.jit.trace(MyCell(scripted_gate), (x, h))

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


rnn_loop = torch.jit.script(MyRNNLoop())
print("// -- loop graph")
print(rnn_loop.graph)
print("// -- loop code")
print(rnn_loop.code)
print("// -- cell code")
print(rnn_loop.cell.code)

# CHECK-LABEL: // -- loop graph
# CHECK:         torch.global_slot "private" @cell.linear.weight : !torch.vtensor<[4,4],f32>
# CHECK-NEXT:    torch.global_slot "private" @cell.linear.bias : !torch.vtensor<[4],f32>
# CHECK-NEXT:    func.func @forward(%xs: !torch.vtensor) -> (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>) {
# CHECK:           %h = torch.aten.zeros {{.*}} -> !torch.vtensor<[3,4],f32>
# CHECK:           %y = torch.aten.zeros {{.*}} -> !torch.vtensor<[3,4],f32>
# CHECK:           %[[N:.*]] = torch.aten.size.int %xs, %{{.*}} : !torch.vtensor, !torch.int -> !torch.int
# CHECK-NEXT:      %[[TRUE:.*]] = torch.constant.bool true
# CHECK-NEXT:      %[[YOUT:.*]], %[[HOUT:.*]] = torch.prim.Loop %[[N]], %[[TRUE]], init(%y, %h) {
# CHECK-NEXT:      ^{{.*}}(%[[I:.*]]: !torch.int, %[[YI:.*]]: !torch.vtensor<[3,4],f32>, %[[HI:.*]]: !torch.vtensor<[3,4],f32>):
# CHECK:             %[[XI:.*]] = torch.aten.select.int %xs, %{{.*}}, %[[I]]
# CHECK-NEXT:        %[[XC:.*]] = torch.tensor_static_info_cast %[[XI]] : !torch.vtensor to !torch.vtensor<[3,4],f32>
# CHECK-NEXT:        %[[Y2:.*]], %[[H2:.*]] = func.call @cell.forward(%[[XC]], %[[HI]]) : (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>) -> (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>)
# CHECK-NEXT:        %[[T:.*]] = torch.constant.bool true
# CHECK-NEXT:        torch.prim.Loop.condition %[[T]], iter(%[[Y2]], %[[H2]] : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>)
# CHECK-NEXT:      } : (!torch.int, !torch.bool, !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>) -> (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>)
# CHECK-NEXT:      func.return %[[YOUT]], %[[HOUT]] : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>
# The traced cell: its shapes fixed by tracing, the scripted gate still a call.
# CHECK:         func.func private @cell.forward(%x: !torch.vtensor<[3,4],f32>, %h: !torch.vtensor<[3,4],f32>) -> (!torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>) {
# CHECK:           %[[LIN:.*]] = torch.aten.linear %x, %linear_weight, %linear_bias
# CHECK-NEXT:      %[[LC:.*]] = torch.tensor_static_info_cast %[[LIN]] : !torch.vtensor<[3,4],f32> to !torch.vtensor
# CHECK-NEXT:      %[[G:.*]] = func.call @cell.dg.forward(%[[LC]]) : (!torch.vtensor) -> !torch.vtensor
# CHECK:           torch.aten.tanh
# CHECK:         func.func private @cell.dg.forward(%x: !torch.vtensor) -> !torch.vtensor {
# CHECK:           %[[C:.*]] = torch.aten.Bool.Tensor %{{.*}} : !torch.vtensor<*,i1> -> !torch.bool
# CHECK-NEXT:      torch.prim.If %[[C]] -> (!torch.vtensor) {

# CHECK-LABEL: // -- loop code
# CHECK-NEXT:  def forward(self, xs: Tensor) -> Tuple[Tensor, Tensor]:
# CHECK-NEXT:    _0 = torch.zeros([3, 4])
# CHECK-NEXT:    _1 = torch.zeros([3, 4])
# CHECK-NEXT:    _2 = xs.size(0)
# CHECK-NEXT:    y = _1
# CHECK-NEXT:    h = _0
# CHECK-NEXT:    for _3 in range(_2):
# CHECK-NEXT:      _4 = torch.select(xs, 0, _3)
# CHECK-NEXT:      y, h = self.cell(_4, h)
# CHECK-NEXT:    return (y, h)
# CHECK-NOT:   def

# CHECK-LABEL: // -- cell code
# CHECK-NEXT:  def forward(self, x: Tensor, h: Tensor) -> Tuple[Tensor, Tensor]:
# CHECK-NEXT:    _0 = torch.nn.functional.linear(x, self.linear.weight, self.linear.bias)
# CHECK-NEXT:    _1 = self.dg(_0)
# CHECK-NEXT:    _2 = torch.add(_1, h)
# CHECK-NEXT:    _3 = torch.tanh(_2)
# CHECK-NEXT:    return (_3, _3)
