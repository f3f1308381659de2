"""Scripted modules: `self.training`-like attributes read at run time, `self.other_method()`,
`@torch.jit.export`, `@torch.jit.ignore`/`unused`, `torch.jit.Final` and `__constants__`.
xjit against torch.jit.script of the same source."""

from __future__ import annotations

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, load, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

V = xjit.tensor([1.5, -2.0, 3.0])

SRC = """
from typing import List

class Scale(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = 3
        self.offsets = [1.0, 2.0]

    def forward(self, x):
        return self.helper(x) * self.k + self.offsets[1]

    def helper(self, x):
        return x + 1

    @torch.jit.export
    def twice(self, x, n: int):
        return self.helper(x) * n

class WithConstants(torch.nn.Module):
    __constants__ = ["c"]
    f: torch.jit.Final[int]

    def __init__(self):
        super().__init__()
        self.c = 2
        self.f = 5
        self.inner = Scale()

    def forward(self, x):
        if torch.jit.is_scripting():
            return self.inner(x) * self.c + self.f
        return self.python_only(x)

    @torch.jit.ignore
    def python_only(self, x):
        return x.numpy()

    @torch.jit.unused
    def never(self, x):
        return x.numpy()
"""


def both(cls: str) -> tuple:
    return load(SRC, xjit)[cls](), real_torch.jit.script(load(SRC, real_torch)[cls]())


def test_methods_export_and_attributes_read_at_run_time() -> None:
    ours_m, theirs = both("Scale")
    ours = xjit.jit.script(ours_m)
    assert_same(ours(V), theirs(to_torch(V)))
    assert_same(ours.twice(V, 4), theirs.twice(to_torch(V), 4))
    for m in (ours, theirs):  # a module attribute is read when forward runs
        m.k = 10
    assert_same(ours(V), theirs(to_torch(V)), "after k = 10")
    assert ours.k == theirs.k == 10
    ours.k = 3
    np.testing.assert_allclose(ours(V).numpy(), (V.numpy() + 1) * 3 + 2.0)


def test_constants_ignore_unused_and_submodule_attributes() -> None:
    ours_m, theirs = both("WithConstants")
    ours = xjit.jit.script(ours_m)
    assert_same(ours(V), theirs(to_torch(V)))
    for m in (ours, theirs):
        m.inner.k = 7  # a submodule's attribute, read at run time too
    assert_same(ours(V), theirs(to_torch(V)), "after inner.k = 7")
    np.testing.assert_allclose(ours(V).numpy(), ((V.numpy() + 1) * 7 + 2) * 2 + 5)


def test_calling_an_ignored_method_is_a_located_error() -> None:
    src = load(
        """
        class Calls(torch.nn.Module):
            def forward(self, x):
                return self.py(x)

            @torch.jit.ignore
            def py(self, x):
                return x
        """,
        xjit,
    )
    with pytest.raises(xjit.jit.FrontendError, match=r"marked @torch.jit.ignore") as info:
        xjit.jit.script(src["Calls"]())
    assert ".py:" in str(info.value)


CONTAINERS = """
class Stack(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 3) for _ in range(3)])
        self.seq = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU())

    def forward(self, x):
        y = self.layers[0](x) + self.layers[-1](x)
        for i, layer in enumerate(self.layers):
            y = y + layer(x) * i
        for a, b in zip(self.layers, (x, x * 2, x * 3)):
            y = y + a(b)
        return self.seq(y), len(self.layers)
"""


def test_module_list_indexing_len_enumerate_zip() -> None:
    ours_m = load(CONTAINERS, xjit)["Stack"]()
    theirs_m = load(CONTAINERS, real_torch)["Stack"]()
    theirs_m.load_state_dict({k: to_torch(v) for k, v in ours_m.state_dict().items()})
    ours, theirs = xjit.jit.script(ours_m), real_torch.jit.script(theirs_m)
    x = xjit.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    assert_same(ours(x), theirs(to_torch(x)))


NESTED = """
class Mode(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = 2

    def forward(self, x):
        return x * self.k if self.training else x + 4

class Outer(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x) + 1
"""


def test_a_scripted_submodule_reads_training_and_attributes_at_run_time() -> None:
    mods = []
    for t, script in ((xjit, xjit.jit.script), (real_torch, real_torch.jit.script)):
        ns = load(NESTED, t)
        inner = script(ns["Mode"]())
        mods.append((script(ns["Outer"](inner)), inner))
    (ours, ours_inner), (theirs, theirs_inner) = mods
    steps = [("train", None), ("eval", None), ("train", 10), ("eval", 3)]
    for step, k in steps:
        for outer, inner in ((ours, ours_inner), (theirs, theirs_inner)):
            getattr(outer, step)()
            if k is not None:
                inner.k = k
        assert_same(ours(V), theirs(to_torch(V)), f"after {step}(), k={k}")
