"""Boolean masks and data-sized results in scripted code, against torch.jit.script: `x[mask]`,
`masked_select`, `nonzero` (a `?` row count each input decides), the writes `x[mask] = v`,
`x[0, idx] = v` and friends, and integer floor division on tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch
from script_oracle import check_function, load

import xjit
from xjit.errors import FrontendError

RNG = np.random.default_rng(11)
X = RNG.standard_normal((4, 5)).astype(np.float32)
ARGS = [(xjit.from_numpy(a),) for a in (X, -X, np.abs(X) + 1, -np.abs(X) - 1, X[::-1].copy())]

READS = """
def mask_index(x):
    return x[x > 0]

def row_mask(x):
    return x[x[:, 0] > 0]

def column_mask(x):
    return x[:, x[0] > 0]

def masked_selects(x):
    return torch.masked_select(x, x > 0), x.masked_select(x[0] > 0)

def nonzeros(x):
    return torch.nonzero(x > 0), (x < 0).nonzero()

def downstream(x):
    y = x[x > 0]
    z = torch.cat([y, y * 2])
    return y.sum(), y.mean(), z + 1, y.numel(), y.size(0)

def mask_then_int(x):
    return x[x[:, 0] > 0, 1]

def mask_in_loop(x):
    t = torch.zeros(1)
    for i in range(3):
        t = t + x[x > i - 1].sum()
    return t
"""


@pytest.mark.parametrize(
    "name",
    [
        "mask_index",
        "row_mask",
        "column_mask",
        "masked_selects",
        "nonzeros",
        "downstream",
        "mask_then_int",
        "mask_in_loop",
    ],
)
def test_reads_match_torchscript(name: str) -> None:
    check_function(READS, name, *ARGS)


REFUSED = """
def mismatch(x, m):
    return x[m]
"""


def test_mask_shape_mismatch_is_refused_at_compile_time() -> None:
    """TorchScript raises when called; xjit knows the sizes when it compiles: it raises then."""
    m = xjit.ones(3, dtype=xjit.bool)
    with pytest.raises(RuntimeError, match="The shape of the mask"):
        real_torch.jit.script(load(REFUSED, real_torch)["mismatch"])(
            real_torch.from_numpy(X), real_torch.ones(3, dtype=real_torch.bool)
        )
    with pytest.raises(FrontendError, match=r"\.py:3:\d+: error: The shape of the mask \[3\]"):
        xjit.jit.script(load(REFUSED, xjit)["mismatch"])(xjit.from_numpy(X), m)


def test_mask_after_ellipsis_matches_eager_torch() -> None:
    """TorchScript refuses a tensor index after `...`; xjit scripts it as eager torch reads it."""
    src = "def f(x):\n    return x[..., x[1] < 0]\n"
    scripted = xjit.jit.script(load(src, xjit)["f"])
    for (a,) in ARGS:
        t = real_torch.from_numpy(a.numpy().copy())
        np.testing.assert_array_equal(scripted(a).numpy(), t[..., t[1] < 0].numpy())
