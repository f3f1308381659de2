"""The TorchScript introductory tutorial, step by step, on xjit (issue 3).

Model code is the tutorial's, verbatim after `import xjit as torch`. Each step prints what the
tutorial prints (graphs, code, results) and asserts that eager, traced, scripted and compiled
results agree.

Run: python examples/intro_tutorial.py
"""

import warnings

import numpy as np

import xjit as torch
from xjit.frontends.torch_interpreter import run_torch


def check(compiled, eager, what):
    """compiled == eager to float32 round-off, for tensors or (nested) tuples of them."""
    if isinstance(eager, (tuple, list)):
        for c, e in zip(compiled, eager):
            check(c, e, what)
        return
    np.testing.assert_allclose(compiled.numpy(), eager.numpy(), rtol=1e-5, atol=1e-6, err_msg=what)


# -- 1. MyCell with a decision gate ------------------------------------------------------------


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
my_cell = MyCell(MyDecisionGate())
print("# 1. eager MyCell with a decision gate")
print(my_cell)
print(my_cell(x, h))

# -- 2. tracing freezes the branch, and says so -------------------------------------------------
print("\n# 2. torch.jit.trace(MyCell(MyDecisionGate()), (x, h))")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    traced_cell = torch.jit.trace(my_cell, (x, h))
for w in caught:
    if issubclass(w.category, torch.jit.TracerWarning):
        print(f"TracerWarning at {w.filename}:{w.lineno}: {w.message}")
assert any(issubclass(w.category, torch.jit.TracerWarning) for w in caught)
print(traced_cell.code)
check(traced_cell(x, h), my_cell(x, h), "traced cell on its example")

# -- 3. scripting keeps the branch -------------------------------------------------------------
print("\n# 3. torch.jit.script(MyDecisionGate()), then torch.jit.script(MyCell(scripted_gate))")
scripted_gate = torch.jit.script(MyDecisionGate())
my_cell = MyCell(scripted_gate)
scripted_cell = torch.jit.script(my_cell)
print(scripted_gate.code)
print(scripted_cell.code)
eager_cell = MyCell(MyDecisionGate())
eager_cell.linear = my_cell.linear
for sign in (1.0, -1.0):  # both branches, decided at run time
    xi = torch.rand(3, 4) * sign
    check(scripted_gate(xi), MyDecisionGate()(xi), "scripted gate")
    check(scripted_cell(xi, h), eager_cell(xi, h), "scripted cell")
print(scripted_cell(x, h))

# -- 4. scripting a module that holds a traced one ---------------------------------------------
print("\n# 4. a scripted loop calling a traced cell")


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
print(rnn_loop.code)


def eager_rnn(xs, loop=rnn_loop):
    """The same computation in plain eager mode, with the traced cell's parameters."""
    cell = MyCell(MyDecisionGate())
    cell.linear = loop.cell.linear
    hh, yy = torch.zeros(3, 4), torch.zeros(3, 4)
    for i in range(xs.size(0)):
        yy, hh = cell(xs[i], hh)
    return yy, hh


xs = torch.rand(10, 3, 4)
check(rnn_loop(xs), eager_rnn(xs), "scripted RNN loop")

# -- 5. tracing a module that holds a scripted one ---------------------------------------------
print("\n# 5. tracing WrapRNN keeps the scripted loop and branch")


class WrapRNN(torch.nn.Module):
  def __init__(self):
    super(WrapRNN, self).__init__()
    self.loop = torch.jit.script(MyRNNLoop())

  def forward(self, xs):
    y, h = self.loop(xs)
    return torch.relu(y)

traced = torch.jit.trace(WrapRNN(), (torch.rand(10, 3, 4)))
assert "torch.prim.Loop" in traced.graph and "torch.prim.If" in traced.graph

# -- 6. graph, code, hierarchy, new inputs -----------------------------------------------------
print("\n# 6. print(traced.graph)")
print(traced.graph)
print("# print(traced.code)")
print(traced.code)
print("# print(traced)")
print(traced)


def eager_wrap(xs):
    cell = MyCell(MyDecisionGate())
    cell.linear = traced.loop.cell.linear
    hh, yy = torch.zeros(3, 4), torch.zeros(3, 4)
    for i in range(xs.size(0)):
        yy, hh = cell(xs[i], hh)
    return torch.relu(yy)


for n in (10, 10, 4):  # a new sequence length too: the scripted loop is not unrolled
    xs = torch.randn(n, 3, 4)
    ref = run_torch(traced.forward.torch_ir, "forward", [xs.numpy()], traced.forward.params)[0]
    np.testing.assert_allclose(ref, eager_wrap(xs).numpy(), rtol=1e-5, atol=1e-6)
    if n == 10:
        check(traced(xs), eager_wrap(xs), "traced WrapRNN")
    check(traced.loop(xs), eager_rnn(xs, traced.loop), f"scripted loop, length {n}")
print("\neager, traced, scripted and compiled results agree")
