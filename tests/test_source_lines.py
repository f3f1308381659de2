"""Source lines survive to the generated numpy code (issue 15, item 2): each vectorised nest's
statements carry a comment naming the user's lines and ops behind them, found here from the test
file's own text (the oracle), not from xjit."""

from __future__ import annotations

import inspect
import os

import pytest
import torch as real  # the oracle for values

import xjit as torch


def _line_of(fn: object, text: str) -> int:
    lines, start = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    (offset,) = [i for i, line in enumerate(lines) if text in line]
    return start + offset


def cell(x, h):
    y = torch.tanh(x + h)
    z = y * 2.0
    return z.sum(1)


def norm(x):
    return torch.softmax(x, -1) + x


def _source(fn, *args) -> str:
    scripted = torch.jit.script(fn)
    scripted(*args)
    (compiled,) = scripted.__dict__["_variants"].values()
    return compiled.source


def test_fused_nest_names_each_line_and_op() -> None:
    x = torch.rand(3, 4)
    src = _source(cell, x, x)
    here = os.path.basename(__file__)
    y, z, s = (_line_of(cell, t) for t in ("torch.tanh", "y * 2.0", "z.sum(1)"))
    expected = f"# {here}:{y} add.Tensor, tanh; {here}:{z} mul.Scalar; {here}:{s} sum.dim_IntList"
    lines = src.splitlines()
    (i,) = [k for k, line in enumerate(lines) if line.strip() == expected]
    assert "np.tanh" in lines[i + 1]  # the comment sits right above the statement it explains


def test_row_grouped_nests_keep_their_comments() -> None:
    """softmax is decomposed and runs in a row-blocked group: the comments name the user's
    softmax line (not the decomposition's) inside the block loop."""
    src = _source(norm, torch.rand(1024, 4096))
    assert "for c" in src  # the row-blocked loop
    here = os.path.basename(__file__)
    line = _line_of(norm, "torch.softmax")
    comments = [s.strip() for s in src.splitlines() if s.strip().startswith(f"# {here}:")]
    assert comments and all(c.startswith(f"# {here}:{line} ") for c in comments)
    assert any("softmax" in c for c in comments)


# -- traced models carry the user's lines too --------------------------------------------------


class TracedCell(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        y = torch.tanh(self.linear(x) + h)
        return y * 2.0


def test_traced_ops_carry_the_callers_line() -> None:
    """Each recorded op is located at the first frame outside xjit: the line in forward, not
    nn.Linear's body nor the tracer."""
    x = torch.rand(3, 4)
    traced = torch.jit.trace(TracedCell(), (x, x))
    here = os.path.basename(__file__)
    y, z = (_line_of(TracedCell.forward, t) for t in ("torch.tanh", "y * 2.0"))
    comments = [s.strip() for s in traced.forward.source.splitlines() if s.strip().startswith("#")]
    assert f"# {here}:{y} linear, add.Tensor, tanh; {here}:{z} mul.Scalar" in comments
    report = traced.forward.fusion_report()
    assert f"aten.tanh ({__file__}:{y})" in report
    assert f"aten.mul.Scalar ({__file__}:{z})" in report
    assert "xjit" + os.sep + "nn" not in report  # no line inside xjit's own modules


def test_traced_function_lines_and_values() -> None:
    def f(a, b):
        c = a * b
        return torch.relu(c) - a

    a, b = torch.rand(2, 5) - 0.5, torch.rand(2, 5)
    traced = torch.jit.trace(f, (a, b))
    got = traced(a, b).numpy()
    want = real.relu(real.tensor(a.numpy()) * real.tensor(b.numpy())) - real.tensor(a.numpy())
    assert (abs(got - want.numpy()) <= 1e-6).all()
    here = os.path.basename(__file__)
    c, r = (_line_of(f, t) for t in ("a * b", "torch.relu"))
    lines = [s.strip() for s in traced.source.splitlines()]
    assert f"# {here}:{c} mul.Tensor; {here}:{r} relu, sub.Tensor" in lines


# -- a failing run-time size check names the user's line ---------------------------------------


def grow(x, y, n: int):
    for _ in range(n):
        x = torch.cat([x, x], 0)  # x's rows become `?` after the loop
    return x + y


def test_runtime_size_mismatch_names_the_user_line() -> None:
    from xjit.backends.numpy.runtime import ShapeMismatch

    scripted = torch.jit.script(grow)
    x, y = torch.rand(2, 4), torch.rand(4, 4)
    got = scripted(x, y, 1).numpy()
    want = real.cat([real.tensor(x.numpy())] * 2, 0) + real.tensor(y.numpy())
    assert (abs(got - want.numpy()) <= 1e-6).all()
    with pytest.raises(RuntimeError):  # PyTorch refuses the same call: [8, 4] + [4, 4]
        real.cat([real.tensor(x.numpy())] * 4, 0) + real.tensor(y.numpy())
    here = os.path.basename(__file__)
    line = _line_of(grow, "x + y")
    with pytest.raises(ShapeMismatch) as err:
        scripted(x, y, 2)
    msg = str(err.value)
    assert msg.startswith(f"size mismatch at {here}:{line} (add.Tensor): ")
    assert msg.endswith("(got 8, expected 4)")
