"""Traced (with variants for other shapes) and scripted archives fed sizes that do not fit
together: every call either refuses, as PyTorch does, or gives PyTorch's numbers (size-1
broadcasting included) — never other numbers. PyTorch eager is the oracle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as real_torch

import xjit as torch
from xjit.jit import ArgumentError


def _add(x: Any, y: Any) -> Any:
    return x + y


def _mm(x: Any, w: Any) -> Any:
    return (x @ w).relu()


class _Add(torch.nn.Module):
    def forward(self, x, y):
        return x + y


class _MM(torch.nn.Module):
    def forward(self, x, w):
        return torch.relu(x @ w)


CASES = {
    "add": (_add, _Add, ((3, 4), (3, 4)), [((5, 4), (1, 4)), ((1, 4), (5, 4)), ((5, 4), (2, 4))]),
    "mm": (_mm, _MM, ((3, 4), (4, 2)), [((5, 6), (6, 2)), ((5, 6), (4, 2)), ((5, 1), (6, 2))]),
}


@pytest.mark.parametrize("kind", ["trace", "script"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_mismatched_sizes_after_load_refuse_or_match_torch(
    tmp_path: Path, case: str, kind: str
) -> None:
    fn, mod, example, calls = CASES[case]
    rng = np.random.default_rng(0)
    if kind == "trace":
        compiled = torch.jit.trace(fn, [torch.rand(*s) for s in example])
    else:
        compiled = torch.jit.script(mod())
    path = tmp_path / f"{case}.xjit"
    torch.jit.save(compiled, path)
    loaded = torch.jit.load(path)
    refused = 0
    for shapes in calls:
        arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        try:
            want = fn(*[real_torch.from_numpy(a) for a in arrays]).numpy()
        except RuntimeError:
            want = None
        for f in (compiled, loaded):
            if want is None:
                with pytest.raises(ArgumentError):
                    f(*[torch.from_numpy(a) for a in arrays])
                refused += 1
            else:
                got = f(*[torch.from_numpy(a) for a in arrays]).numpy()
                assert got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert refused >= 2  # the cases do include sizes PyTorch refuses
