"""Source lines survive to the generated numpy code (issue 15, item 2): each vectorised nest's
statements carry a comment naming the user's lines and ops behind them, found here from the test
file's own text (the oracle), not from xjit."""

from __future__ import annotations

import inspect
import os

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
