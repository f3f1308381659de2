"""torch.export programs with scatter-style ops (`aten.index_put` with and without None
entries and accumulation, `aten.index.Tensor`, `aten.scatter_add`, `aten.scatter.value`,
`aten.index_add` / `index_copy` / `index_fill` as torch decomposes them, `aten.masked_scatter`):
imported with `xjit.from_torch`, compiled, and compared with PyTorch on two input sets."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import xjit
import xjit.nn.functional  # noqa: F401  (xjit.from_torch is on the package)


class Scatters(torch.nn.Module):
    def forward(self, x, i):
        y = x.clone()
        y[i] = 1.0  # index_put
        y[:, i[:2]] += 2.0  # index.Tensor and index_put with a leading None
        z = torch.scatter_add(x, 0, i.reshape(3, 1).expand(3, 4), x[:3])
        w = x.index_add(1, i[:2] % 4, x[:, :2])  # index_put(accumulate=True), a None first
        v = x.index_copy(0, i, x[:3]).index_fill(1, i[:1], 3.0)
        v = v.scatter(0, i.reshape(3, 1).expand(3, 4), 1.5)
        u = x.masked_scatter(x > 0, x * 3)
        return y, z, w, v, u


class Accumulate(torch.nn.Module):
    def forward(self, x, i, j):
        return torch.index_put(x, (i, j), torch.ones(i.shape[0]) * 4, accumulate=True)


X = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))


def _same(got, want) -> None:
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6, atol=1e-6)


def test_scatter_ops_import_and_match() -> None:
    i = torch.tensor([1, 0, 3])
    m = xjit.from_torch(Scatters(), (X, i))
    text = str(m.graph)
    for op in (
        "torch.aten.index_put.hacked_twin",
        "torch.aten.index.Tensor_hacked_twin",
        "torch.aten.scatter_add",
        "torch.aten.scatter.value",
        "torch.aten.masked_scatter",
    ):
        assert op in text
    for x, idx in ((X, i), (X * -2, torch.tensor([3, 2, 0]))):
        _same(m(xjit.from_numpy(x.numpy()), xjit.from_numpy(idx.numpy())), Scatters()(x, idx))


def test_index_put_with_duplicates_accumulates() -> None:
    i, j = torch.tensor([1, 1, 4, 1]), torch.tensor([0, 0, -1, 2])
    m = xjit.from_torch(Accumulate(), (X, i, j))
    for a, b in ((i, j), (torch.tensor([0, 0, 0, 0]), torch.tensor([3, 3, 3, -4]))):
        got = m(*(xjit.from_numpy(t.numpy()) for t in (X, a, b)))
        got = got[0] if isinstance(got, tuple) else got
        np.testing.assert_allclose(got.numpy(), Accumulate()(X, a, b).numpy(), rtol=1e-6)
    source = m.forward.source if hasattr(m, "forward") else m.source
    assert "np.add.at(" in source and not re.search(r"^\s*for ", source, re.M)


def test_index_out_of_range_raises_at_run_time() -> None:
    i, j = torch.tensor([1, 1, 4, 1]), torch.tensor([0, 0, -1, 2])
    m = xjit.from_torch(Accumulate(), (X, i, j))
    bad = torch.tensor([1, 5, 0, 0])
    with pytest.raises(IndexError):
        Accumulate()(X, bad, j)
    with pytest.raises(Exception, match="index out of bounds for dimension 0"):
        m(*(xjit.from_numpy(t.numpy()) for t in (X, bad, j)))
