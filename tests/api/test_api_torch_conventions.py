"""Eager conventions that model code written for torch relies on, each checked against torch:
scalar conversion of one-element tensors of any rank, the in-place forms that reshape a tensor
(`t_`, `unsqueeze_`, ...), and broadcast failures raised as torch's RuntimeError."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import xjit


@pytest.mark.parametrize("conv", [float, int, bool])
@pytest.mark.parametrize("value", [[[-2.7]], [3], 0.5, [[[True]]]])
def test_scalar_conversion_of_one_element_tensors(conv: Any, value: Any) -> None:
    ours, theirs = conv(xjit.tensor(value)), conv(torch.tensor(value))
    assert type(ours) is type(theirs) and ours == theirs


@pytest.mark.parametrize("conv", [float, int])
def test_scalar_conversion_of_many_elements_is_refused_like_torch(conv: Any) -> None:
    with pytest.raises(ValueError) as theirs:
        conv(torch.ones(2))
    with pytest.raises(ValueError) as ours:
        conv(xjit.ones(2))
    assert str(ours.value) == str(theirs.value)


RESHAPING = [
    ("t_", ()),
    ("transpose_", (0, 2)),
    ("swapdims_", (1, 2)),
    ("swapaxes_", (0, 1)),
    ("unsqueeze_", (1,)),
    ("squeeze_", (1,)),
    ("squeeze_", ()),
]


@pytest.mark.parametrize(("name", "args"), RESHAPING, ids=[f"{n}{a}" for n, a in RESHAPING])
def test_reshaping_inplace_forms(name: str, args: tuple[int, ...]) -> None:
    def run(t: Any) -> Any:
        x = t.arange(6.0).view(2, 1, 3) if name != "t_" else t.arange(6.0).view(2, 3)
        alias = x[...]  # a view taken before: keeps its shape, shares the data
        assert getattr(x, name)(*args) is x
        x.mul_(10)
        return x, alias

    (x, alias), (tx, talias) = run(xjit), run(torch)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    np.testing.assert_array_equal(alias.numpy(), talias.numpy())


def test_reshaping_inplace_form_is_traced() -> None:
    def f(t: Any, x: Any) -> Any:
        y = x.clone()
        y.t_()
        return y * 2

    traced = xjit.jit.trace(lambda x: f(xjit, x), xjit.ones(2, 3))
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(
        traced(xjit.from_numpy(x)).numpy(), f(torch, torch.from_numpy(x)).numpy()
    )


BROADCAST_FAILURES = [
    lambda t: t.ones(2, 3) + t.ones(3, 2),
    lambda t: t.add(t.ones(2, 3), t.ones(3, 2), alpha=2),
    lambda t: t.ones(2, 3).mul(t.ones(4, 3)),
    lambda t: t.where(t.ones(2, 3) > 0, t.ones(3, 2), 0.0),
    lambda t: t.ones(2, 3).add_(t.ones(3, 2)),
    lambda t: t.ones(4, 3) * t.ones(2, 1, 3, 1)[0, :, :, :2],
]


@pytest.mark.parametrize("bad", BROADCAST_FAILURES)
def test_broadcast_failures_raise_torchs_runtime_error(bad: Any) -> None:
    with pytest.raises(RuntimeError) as theirs:
        bad(torch)
    for _ in range(2):  # the first call builds the fast-path runner, the second uses it
        with pytest.raises(RuntimeError) as ours:
            bad(xjit)
        assert str(ours.value) == str(theirs.value)


def test_shape_errors_are_runtime_errors_like_torchs() -> None:
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).view(4, 2)
    with pytest.raises(RuntimeError):
        xjit.ones(2, 3).view(4, 2)
