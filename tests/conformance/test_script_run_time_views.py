"""view/reshape with sizes known only at run time keep their rank (the size list's length) in
script, so later ops that need the rank or a static size of another dim compile; as torchvision's
ShuffleNet `channel_shuffle(x, groups: int)`, called from a module. Each against torch.jit.script."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, check_function, load, to_torch

import xjit

SRC = """
nn = torch.nn

def view_then_chunk(x, g: int):
    y = x.view(2, g, -1)
    a, b = y.chunk(2, 0)
    return (a * 2 + b).sum(-1), len(y.shape), y.unbind(0)[1]

def unbind_run_time_dim(x, g: int):
    return x.view(2, g, -1).unbind(1)[0]

def channel_shuffle(x, groups: int):
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, -1, height, width)
    return x

def helper(x, n: int):
    y = x.view(x.size(0), n, -1)
    k = 0
    while n > 0:
        n -= 1
        k += n
    for i in range(k):
        y = y + i
    if k > 2:
        y = y * 2
    return y, n, k

def constant_int_arguments(x, r: int):
    a, n, k = helper(x, 3)
    b, m, j = helper(x, 2)
    c, _, _ = helper(x, r)
    return a.sum() + b.sum() + c.sum(), n + m, k + j, a.size(1), c.size(1)

class Unit(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        out = channel_shuffle(x, 2)
        x1, x2 = out.chunk(2, dim=1)
        return torch.cat((x1, self.conv(x2)), dim=1)
"""

X = xjit.from_numpy(np.arange(24, dtype=np.float32).reshape(2, 12))


def test_view_with_a_run_time_size_keeps_its_rank() -> None:
    check_function(SRC, "view_then_chunk", (X, 3), (X, 4))


def test_int_constants_passed_to_a_function_are_constants_in_its_variant() -> None:
    check_function(SRC, "constant_int_arguments", (X, 4), (X, 6))


def test_a_split_along_a_run_time_size_is_refused_with_the_reason() -> None:
    real_torch.jit.script(load(SRC, real_torch)["unbind_run_time_dim"])  # TorchScript has it
    with pytest.raises(xjit.jit.FrontendError, match=r"unbind\(\) along dim 1, whose size is"):
        xjit.jit.script(load(SRC, xjit)["unbind_run_time_dim"])(X, 3)


def test_channel_shuffle_unit_scripts() -> None:
    theirs = load(SRC, real_torch)["Unit"]().eval()
    ours = load(SRC, xjit)["Unit"]().eval()
    ours.load_state_dict({k: xjit.from_numpy(v.numpy()) for k, v in theirs.state_dict().items()})
    x = xjit.from_numpy(np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32))
    with real_torch.no_grad():
        want = real_torch.jit.script(theirs)(*to_torch((x,)))
    assert_same(xjit.jit.script(ours)(x), want, "Unit")
