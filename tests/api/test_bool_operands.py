"""Ops torch refuses on bool tensors are refused with torch's message (eager and traced), and
the bool forms torch accepts still run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import xjit

B = np.array([True, False, True])


@pytest.mark.parametrize(
    "call",
    [
        lambda t, b: t.abs(b),
        lambda t, b: t.floor(b),
        lambda t, b: t.ceil(b),
        lambda t, b: t.round(b),
        lambda t, b: t.trunc(b),
        lambda t, b: t.relu(b),
        lambda t, b: t.pow(b, b),
        lambda t, b: t.ones(3) - b,
        lambda t, b: b - 1,
        lambda t, b: t.ones(3) - True,
        lambda t, b: -b,
    ],
)
def test_refused_like_torch(call: Any) -> None:
    with pytest.raises(RuntimeError) as theirs:
        call(torch, torch.from_numpy(B))
    with pytest.raises(RuntimeError) as ours:
        call(xjit, xjit.from_numpy(B))
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(RuntimeError, match="Bool|bool"):  # the trace's shape rule too
        xjit.jit.trace(lambda x: call(xjit, x > 0), (xjit.ones(3),))


@pytest.mark.parametrize(
    "call",
    [lambda t, b: t.pow(b, 2), lambda t, b: t.sign(b), lambda t, b: t.abs(b.to(t.int64))],
)
def test_accepted_like_torch(call: Any) -> None:
    want = call(torch, torch.from_numpy(B)).numpy()
    got = call(xjit, xjit.from_numpy(B)).numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
