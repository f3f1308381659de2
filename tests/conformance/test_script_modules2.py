"""Scripted modules, continued: class attributes and constants, `ModuleDict`, `Sequential`
subclasses iterated, `ModuleList` with zip/enumerate/indexing, traced and scripted functions
called from script. xjit against torch.jit.script of the same source (and eager xjit where
TorchScript refuses what xjit accepts)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, check_function, load, to_torch

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

X = xjit.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])


def both(src: str, cls: str, *args: Any) -> tuple[Any, Any, Any]:
    """(xjit scripted, torch scripted, xjit eager) instances of `cls`, with torch's weights
    copied from xjit's."""
    ours_m = load(src, xjit)[cls](*args)
    theirs_m = load(src, real_torch)[cls](*args)
    theirs_m.load_state_dict({k: to_torch(v) for k, v in ours_m.state_dict().items()})
    return xjit.jit.script(ours_m), real_torch.jit.script(theirs_m), ours_m


def check(src: str, cls: str, vs_eager: bool = True) -> Any:
    """Script `cls` with both and compare on X (and with eager xjit, if `vs_eager`)."""
    ours, theirs, eager = both(src, cls)
    assert_same(ours(X), theirs(to_torch(X)))
    if vs_eager:
        assert_same(ours(X), to_torch(eager(X)), "eager")
    return ours, theirs


# -- class attributes and constants -------------------------------------------------------------

CONSTANTS = """
from typing import Tuple

class Consts(torch.nn.Module):
    __constants__ = ["flag", "sizes", "name"]
    k: torch.jit.Final[int] = 2
    ratio: torch.jit.Final[float] = 0.25
    flag = True
    sizes = [1, 2, 3]
    name = "abc"
    pair: torch.jit.Final[Tuple[int, int]] = (3, 4)

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 3)

    def forward(self, x):
        y = self.lin(x) * self.k + self.ratio
        if self.flag and self.name == "abc":
            y = y + self.sizes[1] + self.pair[0]
        for s in self.sizes:
            y = y * s
        return y, self.sizes, self.pair, self.k * len(self.sizes)
"""


def test_class_level_final_and_constants_fold_like_torchscript() -> None:
    # (eager returns the list `sizes`; a constant list is a tuple in TorchScript)
    ours, _ = check(CONSTANTS, "Consts", vs_eager=False)
    ir = str(ours.graph_ir)
    assert "aten.mul.int" not in ir  # self.k * len(self.sizes): folded while compiling
    assert ours.k == 2 and ours.sizes == [1, 2, 3]  # read through the ScriptModule


PLAIN = """
class Plain(torch.nn.Module):
    scale = 0.5
    offset = 2
    on = True

    def forward(self, x):
        y = x * self.scale
        if self.on:
            y = y + self.offset
        return y
"""


def test_plain_class_attributes_are_read_at_run_time() -> None:
    # TorchScript refuses a class attribute that is no constant ("Module 'Plain' has no
    # attribute 'scale'"); xjit reads it like an instance attribute: per value, at run time.
    ns = load(PLAIN, real_torch)
    with pytest.raises(RuntimeError, match="has no attribute 'scale'"):
        real_torch.jit.script(ns["Plain"]())
    eager = load(PLAIN, xjit)["Plain"]()
    ours = xjit.jit.script(eager)
    assert_same(ours(X), to_torch(eager(X)))
    np.testing.assert_allclose(ours(X).numpy(), X.numpy() * 0.5 + 2)
    ours.scale = 3.0  # the ScriptModule's own attribute now: seen by the next call
    ours.on = False
    np.testing.assert_allclose(ours(X).numpy(), X.numpy() * 3.0)


# -- ModuleDict ---------------------------------------------------------------------------------

MODULE_DICT = """
class D(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.d = torch.nn.ModuleDict({"a": torch.nn.Linear(3, 3), "b": torch.nn.Tanh()})

    def forward(self, x):
        x = self.d["a"](x)
        for v in self.d.values():
            x = v(x)
        for k in self.d:
            x = x + 1
        for k in self.d.keys():
            x = x * 2
        for k, v in self.d.items():
            x = v(x) + 0.5 if k == "a" else v(x) - 1
        if "a" in self.d and "z" not in self.d:
            x = x * 3
        return x + len(self.d)
"""


def test_module_dict_indexing_iteration_views_in_and_len() -> None:
    check(MODULE_DICT, "D")


def test_module_dict_unknown_key_is_a_located_error() -> None:
    src = load(
        """
        class Bad(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.d = torch.nn.ModuleDict({"a": torch.nn.ReLU()})

            def forward(self, x):
                return self.d["z"](x)
        """,
        xjit,
    )
    with pytest.raises(xjit.jit.FrontendError, match=r"ModuleDict has no key 'z'") as info:
        xjit.jit.script(src["Bad"]())
    assert ".py:8:" in str(info.value)


# -- Sequential subclasses and ModuleList -------------------------------------------------------

SEQUENTIAL = """
class Seq(torch.nn.Sequential):
    def forward(self, x):
        for m in self:
            x = m(x) + 1
        return x

class Lists(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 3) for _ in range(3)])
        self.acts = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Sigmoid()])

    def forward(self, x):
        for layer, act in zip(self.layers, self.acts):
            x = act(layer(x))
        for i, layer in enumerate(self.layers):
            x = x + layer(x) * i
        ys = [f(x) for f in self.acts]
        return self.layers[-1](x) + self.layers[1](x) * len(self.acts) + ys[2]
"""


def test_sequential_subclass_iterates_itself() -> None:
    ours_m = load(SEQUENTIAL, xjit)["Seq"](xjit.nn.Linear(3, 3), xjit.nn.ReLU())
    theirs_m = load(SEQUENTIAL, real_torch)["Seq"](real_torch.nn.Linear(3, 3), real_torch.nn.ReLU())
    theirs_m.load_state_dict({k: to_torch(v) for k, v in ours_m.state_dict().items()})
    ours = xjit.jit.script(ours_m)
    assert_same(ours(X), real_torch.jit.script(theirs_m)(to_torch(X)))
    assert_same(ours(X), to_torch(ours_m(X)), "eager")


def test_module_list_zip_enumerate_comprehension_negative_and_constant_index_len() -> None:
    check(SEQUENTIAL, "Lists")


def test_tracing_a_sequential_names_its_numbered_parameters() -> None:
    # parameters "0.weight": the IR value names may not start with a digit
    seq = xjit.nn.Sequential(xjit.nn.Linear(3, 3), xjit.nn.ReLU())
    theirs = real_torch.nn.Sequential(real_torch.nn.Linear(3, 3), real_torch.nn.ReLU())
    theirs.load_state_dict({k: to_torch(v) for k, v in seq.state_dict().items()})
    want = theirs(to_torch(X)).detach()
    assert_same(xjit.jit.trace(seq, (X,))(X), want)
    assert_same(xjit.jit.script(seq)(X), want)


# -- traced and scripted functions called from script ------------------------------------------

CALLED = """
def scale(a, n: int):
    return a * n

traced = torch.jit.trace(lambda a: torch.tanh(a) * 3, (torch.ones(2, 3),))
scripted = torch.jit.script(scale)

def caller(x):
    return traced(x) + scripted(x, 2) + scale(x, 4)

class UsesTraced(torch.nn.Module):
    def forward(self, x):
        return traced(x) - 1
"""


def test_calling_traced_and_scripted_functions_from_script() -> None:
    check_function(CALLED, "caller", (X,))
    ours = xjit.jit.script(load(CALLED, xjit)["caller"])
    assert "func.call" in str(ours.graph_ir)  # the traced graph is called, not re-traced
    check(CALLED, "UsesTraced")


@pytest.mark.filterwarnings("ignore::xjit.jit.TracerWarning")
def test_a_traced_function_with_guards_is_refused_where_script_calls_it() -> None:
    ns = load(
        """
        def shaped(a):
            if a.shape[0] > 1:
                return a
            return -a

        guarded = torch.jit.trace(shaped, (torch.ones(2, 3),))

        def caller(x):
            return guarded(x)
        """,
        xjit,
    )
    with pytest.raises(xjit.jit.FrontendError, match=r"traced with guards") as info:
        xjit.jit.script(ns["caller"])
    assert ".py:10:" in str(info.value)


def test_a_traced_function_keeps_its_example_shape_when_script_calls_it() -> None:
    # (its graph is specialised to the example: another shape is a loud error, not a guess)
    ours = xjit.jit.script(load(CALLED, xjit)["caller"])
    with pytest.raises(xjit.jit.ArgumentError, match=r"\[4, 3\]"):
        ours(xjit.ones(4, 3))


def test_code_names_module_list_children_as_torchscript_does() -> None:
    ours, theirs, _ = both(
        """
        class Two(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.l = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.Linear(3, 3)])

            def forward(self, x):
                return self.l[1](self.l[0](x))
        """,
        "Two",
    )
    for text in ('getattr(l0, "0")', 'getattr(l, "1")'):  # torch's spelling, on locals
        assert text in theirs.code
    for text in ('getattr(self.l, "0")(x)', 'getattr(self.l, "1")('):
        assert text in ours.code


NESTED = """
class Nested(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = torch.nn.ModuleList(
            [torch.nn.ModuleList([torch.nn.Linear(3, 3), torch.nn.ReLU()]) for _ in range(2)]
        )
        self.heads = torch.nn.ModuleDict(
            {
                "p": torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh()),
                "q": torch.nn.Linear(3, 3),
            }
        )

    def forward(self, x):
        for blk in self.blocks:
            for m in blk:
                x = m(x)
        x = self.blocks[1][0](x)
        outs = []
        for i, h in enumerate(self.heads.values()):
            outs.append(h(x) * i)
        for k, l in zip(self.heads.keys(), self.blocks):
            x = l[0](x)
        return x + outs[0] + outs[1], len(self.blocks[0])
"""


def test_nested_containers() -> None:
    check(NESTED, "Nested")
