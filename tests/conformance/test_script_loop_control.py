"""`return`, `break`, `continue` in loops over lists, tuples, ModuleLists and `enumerate`/`zip`
of them (unrolled at compile time), nested and mixed with `range`/`while` loops, against
torch.jit.script. TorchScript refuses `break`/`continue` in loops over tuples and ModuleLists
(it unrolls them too); those are compared with the same source run eagerly by PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, check_function, load, to_torch

import xjit


def v(*vals: float) -> xjit.Tensor:
    return xjit.tensor(np.array(vals, np.float32))


POS, NEG, MIX = v(1.0, 2.0), v(-1.0, -3.0), v(2.0, -0.5)

SRC = """
from typing import List, Tuple

def list_break(x, xs: List[torch.Tensor]):
    for y in xs:
        if bool(y.sum() > 0):
            break
        x = x + y
    return x

def list_continue(x, xs: List[torch.Tensor]):
    for y in xs:
        if bool(y.sum() > 0):
            continue
        x = x * 2 + y
    return x

def list_return(x, xs: List[torch.Tensor]):
    for y in xs:
        x = x + y
        if bool(x.sum() > 2):
            return x * 10
    return x

def enumerate_mixed(x, xs: List[torch.Tensor]):
    for i, y in enumerate(xs):
        if bool(y.sum() < 0):
            continue
        if i == 2:
            break
        x = x + y * i
        if bool(x.sum() > 8):
            break
    return x

def zip_return(x, xs: List[torch.Tensor], ys: List[torch.Tensor]):
    for a, b in zip(xs, ys):
        if bool((a * b).sum() > 1):
            return a - b, 1
        x = x + a
    return x, 0

def nested_lists(x, xs: List[torch.Tensor]):
    for a in xs:
        for b in xs:
            if bool((a + b).sum() > 2):
                break
            x = x + a * b
        if bool(x.sum() > 10):
            return x
        if bool(a.sum() < 0):
            continue
        x = x - 1
    return x * 0

def list_in_range(x, xs: List[torch.Tensor], n: int):
    for i in range(n):
        for y in xs:
            if bool((y * i).sum() > 3):
                break
            x = x + y
        if i == 2:
            break
    return x

def range_in_list(x, xs: List[torch.Tensor]):
    for y in xs:
        for i in range(4):
            if i == 2:
                continue
            x = x + y
            if bool(x.sum() > 5):
                break
        if bool(x.sum() > 9):
            break
    return x

def while_in_list(x, xs: List[torch.Tensor]):
    for y in xs:
        while bool(y.sum() < 4):
            y = y + 1
            if bool(y.sum() > 3):
                return y
        x = x + y
    return x

def list_in_while(x, xs: List[torch.Tensor]):
    k = 0
    while k < 3:
        k += 1
        for y in xs:
            if bool(y.sum() < 0):
                break
            if bool(x.sum() > 20):
                return x, k
            x = x + y
    return x, -k

def tuple_return(x, y):
    for t in (x, y):
        if bool(t.sum() > 0):
            return t
    return x + y

def scalar_return(x, xs: List[torch.Tensor]) -> int:
    for i, y in enumerate(xs):
        if bool(y.sum() > 1):
            return i
    return -1
"""

# name -> argument tuples that, between them, take every path (break/continue/return taken
# and not, at different iterations)
CASES: dict[str, list[tuple[Any, ...]]] = {
    "list_break": [(POS, [NEG, MIX, POS]), (POS, [POS, NEG]), (POS, [NEG, NEG])],
    "list_continue": [(POS, [NEG, POS, MIX]), (NEG, [POS, POS]), (MIX, [NEG, MIX])],
    "list_return": [(NEG, [POS, POS, POS]), (POS, [MIX, NEG]), (NEG, [NEG, NEG])],
    "enumerate_mixed": [
        (POS, [POS, POS, POS, POS]),
        (POS, [NEG, v(5.0, 5.0), POS]),
        (NEG, [NEG, NEG, NEG]),
    ],
    "zip_return": [(POS, [POS, NEG], [POS, NEG]), (POS, [NEG, MIX], [POS, NEG]), (NEG, [], [])],
    "nested_lists": [(POS, [NEG, MIX]), (NEG, [POS, NEG]), (v(9.0, 9.0), [MIX])],
    "list_in_range": [(POS, [POS, MIX], 4), (NEG, [MIX, NEG], 1), (POS, [NEG], 0)],
    "range_in_list": [(POS, [POS, MIX]), (NEG, [NEG, NEG]), (NEG, [v(3.0, 3.0)])],
    "while_in_list": [(POS, [NEG, MIX]), (POS, [v(3.0, 3.0)]), (NEG, [v(1.5, 1.0)])],
    "list_in_while": [(POS, [POS, MIX]), (POS, [NEG, POS]), (v(30.0, 0.0), [POS])],
    "tuple_return": [(POS, NEG), (NEG, POS), (NEG, NEG)],
    "scalar_return": [(POS, [NEG, POS]), (POS, [NEG, NEG])],
}


@pytest.mark.parametrize("name", list(CASES))
def test_exits_in_unrolled_loops_match_torchscript(name: str) -> None:
    check_function(SRC, name, *CASES[name])


# TorchScript refuses these ("we do not support break or continue inside the body of these
# loops"): the oracle is PyTorch running the same source eagerly.
EAGER_ONLY = """
def tuple_break(x, y, z):
    for t in (x, y, z):
        if bool(t.sum() > 0):
            break
        x = x + t
    return x

def tuple_continue_enumerate(x, y):
    for i, t in enumerate((x, y, x * y)):
        if bool(t.sum() < 0):
            continue
        x = x + t * i
    return x

def nested_tuple_break(x, y):
    for a in (x, y):
        for b in (y, x):
            if bool((a * b).sum() > 0):
                break
            x = x + b
        if bool(x.sum() > 6):
            break
        x = x + a
    return x

class Stack(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            [torch.nn.Linear(2, 4), torch.nn.Linear(4, 4), torch.nn.Linear(4, 3)]
        )

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if bool(x.sum() > 0):
                break
        return x

class Skip(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(2, 1) for _ in range(4)])

    def forward(self, x):
        h = x.sum()
        for layer in self.layers:
            y = layer(x).sum()
            if bool(y > 0):
                continue
            h = h + y
        return h
"""

EAGER_CASES: dict[str, list[tuple[Any, ...]]] = {
    "tuple_break": [(NEG, NEG, POS), (POS, NEG, NEG), (NEG, MIX, NEG), (NEG, NEG, NEG)],
    "tuple_continue_enumerate": [(POS, NEG), (NEG, POS), (MIX, MIX)],
    "nested_tuple_break": [(POS, NEG), (NEG, POS), (NEG, NEG), (v(4.0, 4.0), NEG)],
}


@pytest.mark.parametrize("name", list(EAGER_CASES))
def test_break_continue_over_tuples_match_eager(name: str) -> None:
    ours = xjit.jit.script(load(EAGER_ONLY, xjit)[name])
    theirs = load(EAGER_ONLY, real_torch)[name]
    with pytest.raises(Exception, match="break or continue"):
        real_torch.jit.script(theirs)  # TorchScript refuses it
    for args in EAGER_CASES[name]:
        assert_same(ours(*args), theirs(*to_torch(args)), f"{name}{args!r}")


def _same_weights(ours: Any, theirs: Any) -> None:
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert n == m
        q.data.copy_(real_torch.from_numpy(np.array(p.numpy())))


@pytest.mark.parametrize("cls", ["Stack", "Skip"])
def test_break_continue_over_a_module_list_match_eager(cls: str) -> None:
    xjit.manual_seed(3)
    ours_m = load(EAGER_ONLY, xjit)[cls]()
    theirs_m = load(EAGER_ONLY, real_torch)[cls]()
    _same_weights(ours_m, theirs_m)
    scripted = xjit.jit.script(ours_m)
    rng = np.random.default_rng(0)
    taken = set()
    for _ in range(12):
        x = xjit.tensor(rng.uniform(-2, 2, (1, 2)).astype(np.float32))
        want = theirs_m(*to_torch((x,)))
        assert_same(scripted(x), want.detach(), cls)
        taken.add(tuple(want.shape))
    if cls == "Stack":  # the break was taken after different layers
        assert len(taken) >= 2, taken


MODULE_RETURN = """
class Early(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 3) for _ in range(3)])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = torch.relu(layer(x))
            if bool(x.sum() > 1.0):
                return x, i
        return x * 0, -1
"""


def test_return_in_a_module_list_loop_matches_torchscript() -> None:
    xjit.manual_seed(5)
    ours_m = load(MODULE_RETURN, xjit)["Early"]()
    theirs_m = load(MODULE_RETURN, real_torch)["Early"]()
    _same_weights(ours_m, theirs_m)
    ours, theirs = xjit.jit.script(ours_m), real_torch.jit.script(theirs_m)
    rng = np.random.default_rng(1)
    exits = set()
    for _ in range(16):
        x = xjit.tensor(rng.uniform(-2, 2, (2, 3)).astype(np.float32))
        want = theirs(*to_torch((x,)))
        assert_same(ours(x), (want[0].detach(), want[1]))
        exits.add(want[1])
    assert len(exits) >= 2, exits  # returned after different layers (or not at all)


RANKS = """
def grow_const(x):
    for _ in range(3):
        x = x.unsqueeze(0)
    return x

def grow_run_time(x, n: int):
    for _ in range(n):
        x = x.unsqueeze(0)
    return x.sum(0), n

def stack_const(x):
    for i in range(2):
        x = torch.stack([x, x * i])
    return x

def shrink_const(x):
    for _ in range(2):
        x = x.sum(0)
    return x
"""


def test_loops_changing_a_carried_rank_match_torchscript() -> None:
    """TorchScript's Tensor has no rank: with a constant trip count xjit unrolls the loop once
    shape refinement sees the rank change (passes/loop_rank_change.py)."""
    x = xjit.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    check_function(RANKS, "grow_const", (POS,), (x,))
    check_function(RANKS, "stack_const", (POS,))
    check_function(RANKS, "shrink_const", (xjit.ones(2, 3, 4),))
    check_function(RANKS, "grow_run_time", (POS, 2), (POS, 0), (x, 3), (POS, 1))


def test_a_rank_change_across_a_run_time_break_is_refused_with_its_line() -> None:
    src = """
def grow(x, xs: List[torch.Tensor]):
    for y in xs:
        if bool(y.sum() > 0):
            break
        x = x.unsqueeze(0)
    return x

def grow_until(x, n: int):
    for _ in range(n):
        x = x.unsqueeze(0)
        if bool(x.sum() > 100):
            break
    return x
"""
    fns = load("from typing import List\n" + src, xjit)
    for name, args, line in [("grow", (POS, [NEG, POS]), 4), ("grow_until", (POS, 2), 11)]:
        with pytest.raises(Exception, match=r"rank 1 before the loop and rank 2") as info:
            xjit.jit.script(fns[name])(*args)
        assert f".py:{line}:" in str(info.value), str(info.value)
        assert "unknowable" in str(info.value)
