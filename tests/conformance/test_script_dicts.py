"""`Dict[str, T]` / `Dict[int, T]` and `str` values in scripted code, against torch.jit.script of
the same source (and eager xjit): literals, `[]` get/set, `get`, `in`, `keys/values/items`
iteration in insertion order, `len`, `pop`/`update`/`copy`, comprehensions, dicts joined across
branches and carried by loops, returned dicts, dict module attributes; str `+`, `in`, `==`."""

from __future__ import annotations

from typing import Any

import pytest
import torch as real_torch
from script_oracle import assert_same, load, to_torch

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

V = xjit.tensor([1.5, -2.0, 3.0])

SRC = """
from typing import Dict, List, Tuple

def literal(x):
    d = {"a": x, "b": x * 2}
    d["c"] = d["a"] + d["b"]
    d["a"] += 1
    acc = x * 0
    for k in d:
        acc = acc + d[k]
    for k, v in d.items():
        if k != "b":
            acc = acc * v
    for v in d.values():
        acc = acc - v
    n = len(d)
    return acc + n + len(d.keys()), d.get("z", x), d.get("b", x), "c" in d, "z" not in d

def int_keys(x):
    d: Dict[int, torch.Tensor] = {}
    for i in range(3):
        d[i] = x * i
    out = torch.jit.annotate(List[torch.Tensor], [])
    for i, v in d.items():
        out.append(v + i)
    return torch.stack(out), d.pop(1), len(d), d.pop(7, x)

def returns_dict(x) -> Dict[str, torch.Tensor]:
    return {"double": x * 2, "neg": -x}

def comprehension(x):
    d = {k: x for k in ["k", "j"]}
    e = {i: x + i for i in range(4)}
    s = x * 0
    for k in e:
        s = s + e[k]
    return s, d["k"], list(d.keys()) == ["k", "j"]

def joined_in_branch(x, c: bool):
    if c:
        d = {"a": x, "b": x + 1}
    else:
        d = {"a": x - 1, "b": x}
    return d["a"] * d["b"]

def joined_on_tensor(x):
    if bool(x.sum() > 0):
        d = {"a": x, "b": x + 1}
    else:
        d = {"a": x - 1, "b": x}
    return d["a"] * d["b"]

def loop_carried(x, n: int):
    d = {"s": x, "p": x + 1}
    for i in range(n):
        d = {"s": d["s"] + d["p"], "p": d["p"] * 2}
    return d["s"]

def update_copy(x):
    d = {"a": x}
    d.update({"b": x + 1, "a": x * 3})
    e = d.copy()
    e["c"] = x
    return list(d.keys()) == ["a", "b"], len(e), d["a"], len(d)

def scalar_values(x, n: int):
    d = {"n": n, "m": n * 2}
    d["n"] += 5
    return x * d["n"] + d["m"]

def strings(x):
    a = "ab" + "cd"
    if a == "abcd":
        x = x + 1
    if "b" in a:
        x = x * 2
    if "z" not in a:
        x = x - 1
    mode = "tan" + "h"
    return torch.nn.functional.gelu(x, approximate=mode)

def str_keys_and_modes(x):
    acts = {"relu": 1, "tanh": 2}
    y = x
    for name in acts:
        if name == "relu":
            y = torch.relu(y) * acts[name]
        else:
            y = torch.tanh(y) + acts[name]
    return y

def str_param(x, mode: str = "relu"):
    if mode == "relu":
        return torch.relu(x)
    if mode in ["tanh", "th"]:
        return torch.tanh(x)
    return torch.nn.functional.gelu(x, approximate=mode)

def str_param_no_default(x, approximate: str):
    if approximate != "none":
        x = x * 2
    return torch.nn.functional.gelu(x, approximate=approximate)

class WithConfig(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = {"a": 2.0, "b": 3.0}

    def forward(self, x):
        out: Dict[str, torch.Tensor] = {}
        for k, s in self.scales.items():
            out[k] = x * s
        return out
"""


def _same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, dict):  # keys in insertion order, values leaf by leaf
        assert isinstance(got, dict) and list(got) == list(want), (where, got, want)
        for k in want:
            _same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{where}[{i}]")
    else:
        assert_same(got, want, where)


def _check(name: str, *arg_sets: tuple[Any, ...], module: bool = False) -> None:
    ours_def, theirs_def = load(SRC, xjit)[name], load(SRC, real_torch)[name]
    eager = ours_def() if module else ours_def
    theirs_eager = theirs_def() if module else theirs_def
    ours = xjit.jit.script(eager)
    theirs = real_torch.jit.script(theirs_eager)
    for args in arg_sets:
        want = theirs(*to_torch(args))
        _same(ours(*args), want, f"{name}{args!r}")
        # Eager xjit against eager torch, on copies: `d[k] += v` updates a dict's tensor in
        # place in Python (so the caller's tensor too), where TorchScript rebinds the item.
        _same(eager(*_fresh(args)), theirs_eager(*to_torch(_fresh(args))), f"{name} (eager)")


def _fresh(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(a.clone() if isinstance(a, xjit.Tensor) else a for a in args)


@pytest.mark.parametrize(
    "name",
    ["literal", "int_keys", "returns_dict", "comprehension", "update_copy", "strings"],
)
def test_dict_and_str_operations(name: str) -> None:
    _check(name, (V,))


def test_dicts_joined_across_branches_and_loops() -> None:
    _check("joined_in_branch", (V, True), (V, False))
    _check("joined_on_tensor", (V,), (-V * 3,))
    _check("loop_carried", (V, 0), (V, 3))
    _check("scalar_values", (V, 2))


def test_str_keys_select_branches_while_compiling() -> None:
    _check("str_keys_and_modes", (V,))


def test_str_parameters_compile_per_value() -> None:
    _check("str_param", (V,), (V, "tanh"), (V, "th"), (V, "none"), (V, "relu"))
    _check("str_param_no_default", (V, "tanh"), (V, "none"))


def test_dict_module_attribute_and_dict_result() -> None:
    _check("WithConfig", (V,), module=True)


BAD = """
from typing import Dict

def run_time_key(x, n: int):
    d = {0: x, 1: x + 1}
    k = int(x.sum() > 0)
    return d[k]

def dict_param(x, d: Dict[float, torch.Tensor]):
    return x

def changed_in_branch(x):
    d = {"a": x}
    if bool(x.sum() > 0):
        d["b"] = x
    return d["a"]

def missing_key(x):
    d = {"a": x}
    return d["b"]
"""


@pytest.mark.parametrize(
    ("name", "what"),
    [
        (
            "run_time_key",
            r"7:\d+: error: unsupported: a dict key that is not known while compiling",
        ),
        ("dict_param", r"9:\d+: error: parameter 'd': .*Dict keys must be str or int"),
        ("changed_in_branch", r"15:\d+: error: unsupported: changing a dict inside an if branch"),
        ("missing_key", r"20:\d+: error: KeyError: 'b'"),
    ],
)
def test_unsupported_dict_uses_are_located(name: str, what: str) -> None:
    with pytest.raises(FrontendError, match=r"model_\d+\.py:" + what):
        xjit.jit.script(load(BAD, xjit)[name])(V)
