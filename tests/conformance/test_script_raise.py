"""`raise` and `assert` in scripted code: TorchScript's `prim::RaiseException` in the branch that
raises. Each case runs under torch.jit.script and xjit's script (compiled through the numpy
backend, and the torch-level reference interpreter): the same results where nothing raises,
and where it raises both raise, with TorchScript's message."""

from __future__ import annotations

from typing import Any

import pytest
import torch as real_torch
from script_oracle import assert_same, load, to_torch

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SRC = """
from typing import Optional

def rank_check(x, n: int):
    if x.dim() != 2:
        raise ValueError(f"expected 2D input (got {x.dim()}D input) n={n}")
    assert n > 0, "n must be positive"
    return x + n

def raise_in_else(x):
    if bool(x.sum() > 0):
        return x * 2
    raise RuntimeError("negative sum")

def raise_in_loop(x, k: int):
    for i in range(4):
        if i == k:
            raise IndexError(f"hit {k}")
        x = x + i
    return x

def nested(x, a: int, b: int):
    y = x
    if a > 0:
        if b > 0:
            raise ValueError("both positive")
        y = x - b
    else:
        y = x + a
    return y

def both_branches(x, a: int):
    if a > 0:
        raise ValueError("positive")
    else:
        if a < 0:
            raise ValueError("negative")
    return x

def raise_in_a_loop_that_may_not_run(x, n: int):
    if bool(x.sum() > 0):
        for i in range(n):
            raise ValueError("ran")
        x = x * 2
    k = 0
    while k < int(x.sum()):
        raise RuntimeError("while ran")
    return x

def assert_no_message(x, a: int):
    assert a != 3
    return x * a

def optional_assert(x, h: Optional[torch.Tensor] = None):
    if h is None:
        return x
    assert h.dim() == 1, "h must be 1-D"
    return x + h

class BatchNormLike(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor([1.0, 2.0, 0.5]))
        self.bias = torch.nn.Parameter(torch.tensor([0.0, -1.0, 0.25]))
        self.register_buffer("running_mean", torch.tensor([0.5, 0.0, -0.5]))
        self.register_buffer("running_var", torch.tensor([1.0, 4.0, 0.25]))

    def forward(self, input):
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")
        return torch.nn.functional.batch_norm(
            input, self.running_mean, self.running_var, self.weight, self.bias, False, 0.1, 1e-5
        )
"""

X2 = xjit.tensor([[1.0, -2.0, 3.0], [0.5, 0.25, -1.0]])
X1 = xjit.tensor([1.0, 2.0, 3.0])


def _torch_outcome(fn: Any, args: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        return "ok", fn(*to_torch(args))
    except real_torch.jit.Error as e:
        return "raised", str(e).strip().splitlines()[-1]


def check(name: str, *arg_sets: tuple[Any, ...], module: bool = False) -> None:
    ours_def, theirs_def = load(SRC, xjit)[name], load(SRC, real_torch)[name]
    ours = xjit.jit.script(ours_def() if module else ours_def)
    theirs = real_torch.jit.script(theirs_def() if module else theirs_def)
    raised = 0
    for args in arg_sets:
        kind, want = _torch_outcome(theirs, args)
        runs = [ours] if module else [ours, ours.run_reference]
        for run in runs:
            if kind == "ok":
                assert_same(run(*args), want, f"{name}{args!r}")
                continue
            with pytest.raises(xjit.jit.Error) as info:
                run(*args)
            # TorchScript's last line, e.g. "builtins.ValueError: expected 2D input (got 1D
            # input) n=3"; xjit prefixes the file:line that raised
            assert str(info.value).rstrip().endswith(want), (str(info.value), want)
        raised += kind == "raised"
    assert 0 < raised < len(arg_sets), "each case must both raise and not raise"


def test_raise_with_fstring_and_assert() -> None:
    check("rank_check", (X2, 1), (X1, 3), (X2, -1), (X1, -1))


def test_raise_after_a_returning_branch_on_a_tensor_condition() -> None:
    check("raise_in_else", (X2,), (-X2 * 4,), (X1,), (-X1,))


def test_raise_in_a_loop() -> None:
    check("raise_in_loop", (X1, 2), (X1, 7), (X1, 0))


def test_nested_and_both_branches() -> None:
    check("nested", (X1, 1, 1), (X1, 1, -2), (X1, -1, 5))
    check("both_branches", (X1, 1), (X1, -1), (X1, 0))


def test_a_loop_whose_body_raises_raises_only_if_it_runs() -> None:
    check("raise_in_a_loop_that_may_not_run", (-X1, 0), (X1, 0), (X1, 2), (-X1 * 0, 3))
    check("raise_in_a_loop_that_may_not_run", (-X1, 5), (X1 * 0.05, 0), (X1 * 0.1, 0))


def test_assert_without_message() -> None:
    check("assert_no_message", (X1, 2), (X1, 3))


def test_assert_on_an_optional_argument() -> None:
    check("optional_assert", (X1,), (X1, X1), (X2, X2))


def test_module_rank_check_like_batchnorm() -> None:
    x3 = xjit.ones(2, 3, 4)
    m = load(SRC, xjit)["BatchNormLike"]().eval()
    ours = xjit.jit.script(m)
    theirs = real_torch.jit.script(load(SRC, real_torch)["BatchNormLike"]().eval())
    for x in (X2, x3):
        assert_same(ours(x), theirs(to_torch(x)))
    for x in (X1, xjit.ones(1, 3, 2, 2)):
        kind, want = _torch_outcome(theirs, (x,))
        assert kind == "raised"
        with pytest.raises(xjit.jit.Error, match=want.replace("(", r"\(").replace(")", r"\)")):
            ours(x)


def test_raise_keeps_the_rest_of_the_graph() -> None:
    """The guard is a `prim.If` whose branch raises; the code after it is not in a branch."""
    g = xjit.jit.script(load(SRC, xjit)["rank_check"]).graph
    assert g.count("torch.prim.RaiseException") == 2
    assert '"builtins.ValueError"' in g and '"AssertionError: n must be positive"' in g


BAD = """
def bare(x):
    if bool(x.sum() > 0):
        raise
    return x

def chained(x):
    if bool(x.sum() > 0):
        raise ValueError("a") from x
    return x

def always(x):
    raise ValueError("never returns")

def not_an_exception(x):
    if bool(x.sum() > 0):
        raise 3
    return x
"""


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("bare", r"bare `raise`"),
        ("chained", r"raise \.\.\. from"),
        ("always", r"every path through 'always' raises"),
        ("not_an_exception", r"raising a int"),
    ],
)
def test_unsupported_raises_are_located(name: str, what: str) -> None:
    fn = load(BAD, xjit)[name]
    with pytest.raises(FrontendError, match=r"model_\d+\.py:\d+:\d+: error: .*" + what):
        xjit.jit.script(fn)(X1)
