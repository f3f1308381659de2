"""Legacy spellings still in real code: `class M(torch.jit.ScriptModule)` with
`@torch.jit.script_method`, `torch.jit.is_scripting()` / `torch.jit.is_tracing()`. xjit against
real PyTorch on the same source, and against eager xjit."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, load, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

X = xjit.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])

LEGACY = """
class Leaf(torch.jit.ScriptModule):
    __constants__ = ["k"]

    def __init__(self, k: int):
        super().__init__()
        self.k = k
        self.w = torch.nn.Parameter(torch.ones(3) * 0.5)
        self.lin = torch.nn.Linear(3, 3)

    @torch.jit.script_method
    def forward(self, x):
        return self.helper(x) * self.w + self.k

    def helper(self, x):
        return torch.relu(self.lin(x))

    @torch.jit.script_method
    def twice(self, x, n: int):
        return self.forward(x) * n

class Root(torch.jit.ScriptModule):
    def __init__(self):
        super().__init__()
        self.leaf = Leaf(2)
        self.shift = 0.5

    @torch.jit.script_method
    def forward(self, x):
        y = self.leaf(x) + self.shift
        if self.training:
            return y + 1
        return y - 1
"""


def make(cls: str, *args: Any) -> tuple[Any, Any]:
    ours = load(LEGACY, xjit)[cls](*args)
    theirs = load(LEGACY, real_torch)[cls](*args)
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_a_script_module_subclass_compiles_its_script_methods() -> None:
    ours, theirs = make("Leaf", 3)
    assert isinstance(ours, xjit.jit.ScriptModule) and type(ours).__name__ == "Leaf"
    assert_same(ours(X), theirs(to_torch(X)))
    assert_same(ours.forward(X), theirs.forward(to_torch(X)), "forward")
    assert_same(ours.twice(X, 4), theirs.twice(to_torch(X), 4), "twice")
    assert "aten.relu" in str(ours.graph_ir)  # compiled: helper's body is in the graph
    # the scripted code is what runs: the same numbers as the Python methods
    eager = load(LEGACY, xjit)["Leaf"].helper(ours, X) * ours.w + 3
    np.testing.assert_allclose(ours(X).numpy(), eager.numpy(), rtol=1e-6)


def test_nested_script_modules_follow_train_eval_and_attributes() -> None:
    ours, theirs = make("Root")
    for step in ("train", "eval", "train"):
        getattr(ours, step)()
        getattr(theirs, step)()
        assert_same(ours(X), theirs(to_torch(X)), step)
    ours.shift = theirs.shift = 4.0  # an attribute, read when forward runs
    assert_same(ours(X), theirs(to_torch(X)), "shift = 4.0")


def test_a_legacy_module_saves_and_loads(tmp_path: Any) -> None:
    ours, theirs = make("Leaf", 1)
    path = tmp_path / "leaf.xjit"
    ours.save(path)
    assert_same(xjit.jit.load(path)(X), theirs(to_torch(X)))


def test_a_script_module_subclass_without_forward_is_refused() -> None:
    ns = load(
        """
        class NoForward(torch.jit.ScriptModule):
            def __init__(self):
                super().__init__()
        """,
        xjit,
    )
    with pytest.raises(TypeError, match="needs a forward method"):
        ns["NoForward"]()


MARKERS = """
def branches(x):
    if torch.jit.is_tracing():
        return x + 1
    if torch.jit.is_scripting():
        return x * 2
    return x - 3
"""


def test_is_scripting_and_is_tracing_like_torch() -> None:
    ours_f, theirs_f = load(MARKERS, xjit)["branches"], load(MARKERS, real_torch)["branches"]
    t = to_torch(X)
    assert_same(xjit.jit.script(ours_f)(X), real_torch.jit.script(theirs_f)(t), "script")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the trace differs from eager on purpose
        ours_t = xjit.jit.trace(ours_f, (X,), check_trace=False)
        theirs_t = real_torch.jit.trace(theirs_f, (t,), check_trace=False)
    assert_same(ours_t(X), theirs_t(t), "trace")
    assert_same(ours_f(X), theirs_f(t), "eager")
    assert xjit.jit.is_tracing() is real_torch.jit.is_tracing() is False
