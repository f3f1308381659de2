"""`List[Tensor]` from `split`/`chunk`/`unbind`/`tensor_split` (methods and `torch.*`), the number
of pieces known at compile time from static shapes and constant arguments: indexing, unpacking,
iteration, `len`, into `cat`/`stack`; a custom LSTM cell as users write it; `with
torch.no_grad():`. xjit against torch.jit.script of the same source."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, check_function, load, to_torch

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SRC = """
from typing import List, Tuple

def pieces(x):
    a, b = x.chunk(2, -1)
    ps = torch.split(x, [1, 2], 0)
    s = x.sum() * 0
    for p in x.unbind(0):
        s = s + p.max()
    halves = torch.chunk(x, 2, dim=1)
    return torch.cat([a * 2, b], 1) + ps[1].sum() + len(ps), torch.stack(x.split(2, 1), 0), s, halves[-1]

def uneven(x):
    ps = x.split(3, dim=1)
    out = ps[0].sum(1)
    for i, p in enumerate(ps):
        out = out + p.sum(1) * i
    return out, len(x.chunk(4, 1)), x.tensor_split(3, 1)[2]

def no_grad_inside(x):
    with torch.no_grad():
        y = x * 2
        if bool(y.sum() > 0):
            return y + 1
    return y - 1
"""

CELL = """
from typing import Tuple

class Cell(torch.nn.Module):
    def __init__(self, n_in: int, n_h: int):
        super().__init__()
        self.ih = torch.nn.Linear(n_in, 4 * n_h)
        self.hh = torch.nn.Linear(n_h, 4 * n_h)

    def forward(self, x, state: Tuple[torch.Tensor, torch.Tensor]):
        h, c = state
        gates = self.ih(x) + self.hh(h)
        i, f, g, o = gates.chunk(4, 1)
        i = torch.sigmoid(i)
        f = torch.sigmoid(f)
        g = torch.tanh(g)
        o = torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return h, (h, c)

class Seq(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = Cell(3, 5)

    def forward(self, xs, h, c):
        total = h * 0
        for x in xs:
            y, (h, c) = self.cell(x, (h, c))
            total = total + y
        return total, c
"""


def _t(*shape: int) -> xjit.Tensor:
    rng = np.random.default_rng(sum(shape))
    return xjit.tensor(rng.standard_normal(shape).astype(np.float32))


def test_split_chunk_unbind_as_lists() -> None:
    check_function(SRC, "pieces", (_t(3, 4),), (_t(3, 6),))


def test_uneven_pieces_and_len() -> None:
    check_function(SRC, "uneven", (_t(2, 7),), (_t(3, 9),), (_t(1, 3),))


def test_no_grad_block_is_a_no_op() -> None:
    check_function(SRC, "no_grad_inside", (_t(4),), (-_t(4).abs(),))


def test_custom_lstm_cell_matches_torch_jit_script() -> None:
    ours_cell = load(CELL, xjit)["Cell"](3, 5)
    theirs_cell = load(CELL, real_torch)["Cell"](3, 5)
    with real_torch.no_grad():
        for name, p in theirs_cell.named_parameters():
            p.copy_(to_torch(dict(ours_cell.named_parameters())[name]))
    ours, theirs = xjit.jit.script(ours_cell), real_torch.jit.script(theirs_cell)
    x, h, c = _t(2, 3), _t(2, 5), _t(2, 5)
    for _ in range(2):
        got = ours(x, (h, c))
        want = theirs(to_torch(x), (to_torch(h), to_torch(c)))
        assert_same(got, want)
        h, c = got[1]


def test_a_run_time_number_of_pieces_is_a_located_refusal() -> None:
    src = """
def f(x, k: int):
    n = 1
    for i in range(k):
        n = n + 1
    return x.chunk(n)[0]
"""
    fn = load(src, xjit)["f"]
    with pytest.raises(FrontendError, match=r"model_\d+\.py:6:\d+: .*run-time 'chunks'"):
        xjit.jit.script(fn)(_t(4), 2)


def test_a_cell_inside_a_module_scripts_with_typed_calls() -> None:
    ours_seq = load(CELL, xjit)["Seq"]()
    theirs_seq = load(CELL, real_torch)["Seq"]()
    with real_torch.no_grad():
        for name, p in theirs_seq.named_parameters():
            p.copy_(to_torch(dict(ours_seq.named_parameters())[name]))
    ours, theirs = xjit.jit.script(ours_seq), real_torch.jit.script(theirs_seq)
    for steps in (3, 1):
        xs, h, c = _t(steps, 2, 3), _t(2, 5), _t(2, 5)
        assert_same(ours(xs, h, c), theirs(*to_torch((xs, h, c))), f"{steps} steps")
