"""`List[T]`, `Dict[str, T]`, `Dict[int, T]` and `Tuple[List[T], ...]` parameters and results of
scripted functions, each case scripted by `torch.jit.script` (the oracle) and by xjit.

A container parameter is compiled per call on its structure (a list's length, a dict's key set);
its elements stay values of the graph. A call with another structure compiles again: these tests
alternate lengths and key sets to show a graph compiled for one is never run for another."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import load

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SRC = """
from typing import Dict, List, Optional, Tuple

def cat_list(xs: List[torch.Tensor]) -> torch.Tensor:
    return torch.cat(xs) * 2

def weighted(xs: List[torch.Tensor], ws: List[float]) -> torch.Tensor:
    out = xs[0] * ws[0]
    for i in range(1, len(xs)):
        out = out + xs[i] * ws[i]
    return out

def last_and_len(xs: List[torch.Tensor]) -> Tuple[torch.Tensor, int]:
    return xs[-1] + 1, len(xs)

def reshape_to(x: torch.Tensor, sizes: List[int]) -> torch.Tensor:
    return x.reshape(sizes)

def int_sum(xs: List[int]) -> int:
    s = 0
    for v in xs:
        s += v * v
    return s

def float_scale(xs: List[float], x: torch.Tensor) -> torch.Tensor:
    for v in xs:
        x = x * v + 1.0
    return x

def copy_then_append(xs: List[int], n: int) -> List[int]:
    ys = list(xs)
    ys.append(n)
    return ys + xs

def str_dict(d: Dict[str, torch.Tensor]) -> torch.Tensor:
    return d["a"] * 2 + d["b"]

def str_dict_iter(d: Dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    for k, v in d.items():
        x = x + v
    return x * len(d)

def int_dict(d: Dict[int, torch.Tensor]) -> torch.Tensor:
    return d[0] - d[1]

def tuple_of_list(t: Tuple[List[torch.Tensor], int]) -> torch.Tensor:
    return torch.stack(t[0]).sum(0) * t[1]

def optional_sizes(x: torch.Tensor, sizes: Optional[List[int]] = None) -> torch.Tensor:
    if sizes is None:
        return x + 1
    return x.reshape(sizes)

def helper(xs: List[torch.Tensor], k: int) -> torch.Tensor:
    out = xs[0]
    for i in range(1, len(xs)):
        out = out + xs[i] * k
    return out

def calls_helper(x: torch.Tensor) -> torch.Tensor:
    return helper([x, x + 1, x * 2], 2) + helper([x], 3)

def list_result(x: torch.Tensor) -> List[torch.Tensor]:
    return [x, x + 1, x * 2]

def int_list_result(x: torch.Tensor, n: int) -> List[int]:
    return [x.size(0), n, n * 2]

def dict_result(x: torch.Tensor) -> Dict[str, torch.Tensor]:
    return {"a": x, "b": x * 2}

def tuple_list_result(xs: List[torch.Tensor]) -> Tuple[List[torch.Tensor], int]:
    return [x * 2 for x in xs], len(xs)

def reshape_helper(x: torch.Tensor, sizes: List[int]) -> torch.Tensor:
    return x.reshape(sizes)

def passes_constant_and_run_time_sizes(x: torch.Tensor, n: int) -> torch.Tensor:
    return reshape_helper(x, [3, 1]) + reshape_helper(x, [1, n])

def dict_helper(d: Dict[str, torch.Tensor]) -> torch.Tensor:
    return d["a"] - d["b"]

def passes_a_dict(x: torch.Tensor) -> torch.Tensor:
    return dict_helper({"b": x, "a": x * 3})

def slice_by_params(xs: List[int], a: int, b: int) -> List[int]:
    return xs[a:b]

def slice_by_size(x: torch.Tensor, n: int) -> List[int]:
    s = [1, 2, 3, 4, 5]
    return s[n:] + s[: x.size(0) - 1]

def drop_one(xs: List[torch.Tensor], k: int) -> torch.Tensor:
    return torch.cat(xs[:k] + xs[k + 1 :])

class Heads(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([1.0, 2.0, 0.5]))

    def forward(self, xs: List[torch.Tensor]) -> List[torch.Tensor]:
        return [x * self.w for x in xs]
"""

A = xjit.tensor([1.0, -2.0, 3.0])
B = xjit.tensor([0.5, 0.25, -1.0])
C = xjit.tensor([2.0, 4.0, -8.0])
M = xjit.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def to_torch(v: Any) -> Any:
    if isinstance(v, xjit.Tensor):
        return real_torch.from_numpy(np.array(v.numpy()))
    if isinstance(v, dict):
        return {k: to_torch(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return type(v)(to_torch(x) for x in v)
    return v


def same(got: Any, want: Any, where: str) -> None:
    """Structure (list/tuple/dict), Python scalar types, tensor dtypes and values."""
    if isinstance(want, real_torch.Tensor):
        assert isinstance(got, xjit.Tensor), f"{where}: {type(got).__name__}"
        w = want.detach().numpy()
        assert got.numpy().dtype == w.dtype, f"{where}: {got.numpy().dtype} != {w.dtype}"
        assert got.numpy().shape == w.shape, f"{where}: {got.numpy().shape} != {w.shape}"
        np.testing.assert_allclose(got.numpy(), w, rtol=1e-6, err_msg=where)
        return
    assert type(got) is type(want), f"{where}: {type(got).__name__} != {type(want).__name__}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        for k in want:
            same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (tuple, list)):
        assert len(got) == len(want), f"{where}: {len(got)} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            same(g, w, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def check(name: str, *arg_sets: tuple[Any, ...], module: bool = False) -> Any:
    ours_def, theirs_def = load(SRC, xjit)[name], load(SRC, real_torch)[name]
    ours = xjit.jit.script(ours_def() if module else ours_def)
    theirs = real_torch.jit.script(theirs_def() if module else theirs_def)
    for args in arg_sets:
        same(ours(*args), theirs(*to_torch(args)), f"{name}{args!r}")
    return ours


def test_list_of_tensors_compiled_per_length() -> None:
    # lengths 2, 3, 2, 1: each call runs the graph for its own length
    f = check("cat_list", ([A, B],), ([A, B, C],), ([C, A],), ([B],))
    assert len(f.variants) == 3  # one per length (the second length-2 call reuses the first)


def test_list_elements_stay_values() -> None:
    check("weighted", ([A, B], [1.0, 2.0]), ([A, B], [0.5, -3.0]), ([A, B, C], [1.0, 0.0, 2.0]))
    check("last_and_len", ([A],), ([A, B, C],), ([C, B],))
    check("int_sum", ([1, 2, 3],), ([4, 5, 6],), ([],), ([7],))
    check("float_scale", ([2.0, 3.0], A), ([0.5], A), ([2.0, 5.0], B))


def test_int_list_as_sizes() -> None:
    check("reshape_to", (M, [3, 2]), (M, [6]), (M, [2, 3]), (M, [1, 6, 1]))
    check("optional_sizes", (M,), (M, [3, 2]), (M, None), (M, [6]))


def test_parameter_list_copied_then_changed() -> None:
    check("copy_then_append", ([1, 2], 5), ([], 1), ([3, 4, 5], 0))


def test_str_and_int_key_dicts_compiled_per_key_set() -> None:
    check("str_dict", ({"a": A, "b": B},), ({"b": C, "a": A},), ({"a": B, "b": B},))
    check("str_dict_iter", ({"a": A, "b": B}, C), ({"z": A}, C), ({"b": B, "a": A}, C))
    check("int_dict", ({0: A, 1: B},), ({1: C, 0: A},))


def test_tuple_holding_a_list() -> None:
    check("tuple_of_list", (([A, B], 2),), (([A, B, C], -1),), (([C], 3),))


def test_scripted_caller_passes_lists() -> None:
    check("calls_helper", (A,), (B,))


def test_scripted_callers_pass_constant_lists_and_dicts() -> None:
    check("passes_constant_and_run_time_sizes", (A, 3), (B, 3))
    check("passes_a_dict", (A,), (C,))


def test_list_slices_with_bounds_known_per_call() -> None:
    """Bounds from int parameters and tensor sizes: compiled per argument types and int
    values (each a constant there), so a call with other bounds never reuses a slice."""
    xs = [1, 2, 3, 4]
    check("slice_by_params", (xs, 1, 3), (xs, 0, -1), (xs, 1, 3), (xs, 2, 2), ([5], 0, 1))
    check("slice_by_size", (A, 1), (M, 3), (A, 4), (xjit.ones(5), 0))
    check("drop_one", ([A, B, C], 1), ([A, B, C], 0), ([A, B], 1))


def test_container_results_are_python_containers() -> None:
    check("list_result", (A,))
    check("int_list_result", (A, 4), (M, -2))
    check("dict_result", (A,))
    check("tuple_list_result", ([A, B],), ([C],))


def test_module_forward_takes_a_list() -> None:
    check("Heads", ([A, B],), ([C],), ([A, B, C],), module=True)


BAD = """
from typing import Dict, List, Optional, Tuple

def mutate(xs: List[int]) -> List[int]:
    xs.append(3)
    return xs

def set_key(d: Dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    d["c"] = x
    return x

def takes_list(xs: List[torch.Tensor]) -> torch.Tensor:
    return xs[0]

def str_keys(d: Dict[str, torch.Tensor]) -> torch.Tensor:
    return d["a"]

def slice_by_tensor_value(x: torch.Tensor) -> List[int]:
    s = [1, 2, 3]
    return s[: int(x.sum())]

def optional_items(xs: List[Optional[torch.Tensor]]) -> torch.Tensor:
    return torch.zeros(1)

def unannotated(xs):
    return xs

def str_items(xs: List[str]) -> int:
    return len(xs)
"""

V = xjit.tensor([1.0, 2.0])


def _bad(name: str) -> Any:
    return xjit.jit.script(load(BAD, xjit)[name])


@pytest.mark.parametrize(
    ("name", "args", "what"),
    [
        ("mutate", ([1],), r"5:\d+: error: unsupported: changing a list passed as a parameter"),
        ("set_key", ({"a": V}, V), r"9:\d+: error: unsupported: changing a dict passed as a"),
        (
            "takes_list",
            ([1, 2],),
            r"12:\d+: error: parameter 'xs': xs.0 is a Tensor, but an int was passed",
        ),
        (
            "str_keys",
            ({1: V},),
            r"15:\d+: error: parameter 'd': d is a Dict\[str, Tensor\], but a dict with the keys",
        ),
        (
            "slice_by_tensor_value",
            (V,),
            r"20:\d+: error: unsupported: a list slice whose bound is known only at run time",
        ),
        ("optional_items", ([V],), r"22:\d+: error: parameter 'xs.0': Optional inside a List"),
        ("unannotated", ([V],), r"25:\d+: error: parameter 'xs' is unannotated"),
        ("str_items", (["a"],), r"28:\d+: error: unsupported: parameter 'xs.0' of type str"),
    ],
)
def test_unsupported_container_parameters_are_located(name: str, args: Any, what: str) -> None:
    with pytest.raises(FrontendError, match=r"model_\d+\.py:" + what):
        _bad(name)(*args)


def test_a_non_list_for_a_list_parameter_is_an_argument_error() -> None:
    f = _bad("takes_list")
    for v, got in ((V, "Tensor"), (3, "int"), (None, "NoneType")):
        with pytest.raises(xjit.jit.ArgumentError, match=f"'xs' must be a List.Tensor., got {got}"):
            f(v)
    assert f([V]) is not None


def test_no_generic_graph_to_save() -> None:
    f = _bad("takes_list")
    with pytest.raises(xjit.jit.FrontendError, match="List/Dict parameter"):
        f.graph  # noqa: B018
    with pytest.raises(xjit.jit.ArchiveError, match="no generic graph"):
        f.save(io.BytesIO())
