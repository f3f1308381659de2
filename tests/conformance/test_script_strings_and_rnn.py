"""`str` module attributes and constants compared while compiling (a str attribute is read at
run time in TorchScript: changing it selects another graph), and the located refusal of
xjit.nn's recurrent layers in a module. xjit against torch.jit.script of the same source."""

from __future__ import annotations

import pytest
import torch as real_torch
from script_oracle import assert_same, check_function, load, to_torch

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

V = xjit.tensor([1.5, -2.0, 3.0])

SRC = """
class Act(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mode = "relu"

    def forward(self, x):
        if self.mode == "relu":
            return torch.relu(x)
        elif self.mode != "tanh":
            return x * 2
        return torch.tanh(x)

def consts(x):
    a = "ab"
    if a == "ab":
        x = x + 1
    if "x" != "x":
        x = x * 100
    return x

class Wrap(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.GRU(3, 4)

    def forward(self, x):
        y, h = self.rnn(x)
        return y
"""


def test_str_attribute_read_at_run_time() -> None:
    ours = xjit.jit.script(load(SRC, xjit)["Act"]())
    theirs = real_torch.jit.script(load(SRC, real_torch)["Act"]())
    for mode in ("relu", "tanh", "other", "relu"):
        ours.mode = theirs.mode = mode
        assert_same(ours(V), theirs(to_torch(V)), f"mode={mode}")


def test_str_constants_compare() -> None:
    check_function(SRC, "consts", (V,))


def test_recurrent_layer_in_a_module_scripts() -> None:
    """(Refused before: xjit.nn's RNNs now script, see test_script_rnn.py.)"""
    ours = load(SRC, xjit)["Wrap"]().eval()
    theirs = load(SRC, real_torch)["Wrap"]().eval()
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    x = xjit.ones(2, 1, 3)
    assert_same(xjit.jit.script(ours)(x), real_torch.jit.script(theirs)(to_torch(x)))


def test_recurrent_methods_other_than_forward_are_a_located_refusal() -> None:
    from xjit.frontends.script import script_module_ir

    script_module_ir(xjit.nn.LSTM(3, 4))  # forward scripts
    with pytest.raises(FrontendError, match=r"rnn\.py:\d+:\d+: .*nn\.LSTM.*trace it instead"):
        script_module_ir(xjit.nn.LSTM(3, 4), method="flatten_parameters")
