"""Buffers in RNN loop bodies (numpy backend): a branch's copy of a batched projection stays a
view, a branch's buffer is allocated once before the loop, the carried state alternates between
two buffers. Checked against numpy written here (both gate branches taken within one sequence,
odd and even step counts), the xDSL interpreter on the loops stage, and for aliasing between the
results of successive calls."""

from __future__ import annotations

import re

import numpy as np
import pytest
from models import MyDecisionGate, MyGatedCell, MyRNNLoop, WrapRNN
from xdsl.dialects import func
from xdsl.parser import Parser

import xjit as torch
from xjit.dialects import make_context
from xjit.jit import script

RNG = np.random.default_rng(3)


def _reference(xs: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    h = np.zeros((3, 4), np.float32)
    for x in xs:
        y = x @ W.T + b
        y = y if y.sum() > 0 else -y
        h = np.tanh(y + h)
    return np.maximum(h, 0)


def _mixed(n: int) -> np.ndarray:
    """Steps whose projection sums alternate in sign (both branches run within one call)."""
    xs = RNG.standard_normal((n, 3, 4)).astype(np.float32)
    xs[::2] += 3
    xs[1::2] -= 3
    return xs


@pytest.fixture(scope="module")
def compiled():
    torch.manual_seed(0)
    cell = torch.jit.trace(
        MyGatedCell(script(MyDecisionGate())), (torch.rand(3, 4), torch.rand(3, 4))
    )
    return torch.jit.trace(WrapRNN(script(MyRNNLoop(cell))), (torch.from_numpy(_mixed(10)),))


def test_loop_body_allocates_nothing_and_copies_nothing(compiled) -> None:
    src = compiled.forward.source
    body = src[src.index("for k0 in") : src.index("return")]
    loop_body = "\n".join(line for line in body.splitlines() if line.startswith(" " * 12))
    assert "np.empty" not in loop_body  # branch buffer made once, state in two alternating buffers
    assert "used as a view, not copied" in loop_body and "[...] =" not in loop_body
    assert re.search(r"(pp\d), (pp\d) = \2, \1", loop_body)


@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_matches_numpy_and_interpreter(compiled, n: int) -> None:
    W = compiled.loop.cell.linear.weight.numpy()
    b = compiled.loop.cell.linear.bias.numpy()
    xs = _mixed(n) if n > 1 else -np.abs(_mixed(1)) - 1
    got = compiled(torch.from_numpy(xs.copy())).numpy()
    np.testing.assert_allclose(got, _reference(xs, W, b), rtol=1e-5, atol=1e-6)
    if n != 10:
        return
    from xjit.backends import interpreter

    module = Parser(make_context(), compiled.forward.stages()["loops"]).parse_module()
    (fn,) = [
        op.sym_name.data
        for op in module.ops
        if isinstance(op, func.FuncOp) and not op.is_declaration
    ]
    (ref,) = interpreter.run_interpreted(
        module, fn, [xs], {"loop.cell.linear.weight": W, "loop.cell.linear.bias": b}
    )
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_results_of_successive_calls_do_not_share_storage(compiled) -> None:
    a_in, b_in = _mixed(10), _mixed(10)
    a = compiled(torch.from_numpy(a_in)).numpy()
    a_copy = a.copy()
    b = compiled(torch.from_numpy(b_in)).numpy()
    assert not np.shares_memory(a, b)
    np.testing.assert_array_equal(a, a_copy)  # the second call did not write the first result


class CarryGate(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.dg = script(MyDecisionGate())
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y = self.dg(self.linear(xs[i]))
            h = h + y
        return y, h


def test_branch_results_that_leave_the_iteration_keep_their_own_buffers() -> None:
    """The gate's result is carried out of the loop: it is neither a view of the batched
    projection nor a buffer shared between iterations."""
    torch.manual_seed(2)
    m = CarryGate()
    c = torch.jit.trace(script(m), (torch.from_numpy(_mixed(4)),))
    W, b = m.linear.weight.numpy(), m.linear.bias.numpy()
    for n in (1, 4, 5):
        xs = _mixed(n)
        y, h = (t.numpy() for t in c(torch.from_numpy(xs.copy())))
        ys = [x @ W.T + b for x in xs]
        ys = [v if v.sum() > 0 else -v for v in ys]
        np.testing.assert_allclose(y, ys[-1], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h, np.sum(ys, axis=0), rtol=1e-5, atol=1e-5)
        assert not np.shares_memory(y, h)
