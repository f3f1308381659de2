"""torch.export programs with data-dependent result sizes (`aten.nonzero`, `aten.masked_select`):
torch.export adds range asserts on the unbacked count (`sym_size`, `ge`/`le`,
`_assert_scalar`), which the importer drops with the asserts. Imported with `xjit.from_torch`,
compiled once, and compared with PyTorch on inputs with different counts (none included)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import xjit
import xjit.nn.functional  # noqa: F401  (xjit.from_torch is on the package)


class NonZero(torch.nn.Module):
    def forward(self, x):
        return torch.nonzero(x > 0), x.sum()


class MaskedSelect(torch.nn.Module):
    def forward(self, x, m):
        return torch.masked_select(x * 2, m)


class NonZeroRows(torch.nn.Module):
    def forward(self, x):
        return torch.index_select(x, 0, torch.nonzero(x[:, 0] > 0)[:, 0]) + 1


def _inputs(seed: int, scale: float) -> torch.Tensor:
    return torch.randn(4, 5, generator=torch.Generator().manual_seed(seed)) * scale


def _run(m: object, args: tuple[torch.Tensor, ...]) -> list[np.ndarray]:
    out = m(*(xjit.from_numpy(a.numpy()) for a in args))  # type: ignore[operator]
    return [o.numpy() for o in (out if isinstance(out, tuple) else (out,))]


def _same(got: list[np.ndarray], want: object) -> None:
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == tuple(w.shape) and g.dtype == w.numpy().dtype
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model", [NonZero(), NonZeroRows()], ids=["nonzero", "rows"])
def test_nonzero_imports_and_matches(model: torch.nn.Module) -> None:
    m = xjit.from_torch(model, (_inputs(0, 1.0),))
    assert "torch.aten.nonzero" in str(m.graph)
    for x in (_inputs(0, 1.0), _inputs(1, 1.0), -_inputs(2, 1.0).abs(), _inputs(3, 1.0).abs()):
        _same(_run(m, (x,)), model(x))


def test_masked_select_imports_and_matches() -> None:
    x0 = _inputs(0, 1.0)
    m = xjit.from_torch(MaskedSelect(), (x0, x0 > 0))
    assert "torch.aten.masked_select" in str(m.graph)
    for x, mask in ((x0, x0 > 0), (_inputs(1, 1.0), _inputs(2, 1.0) > 0.5), (x0, x0 > 9)):
        _same(_run(m, (x, mask)), MaskedSelect()(x, mask))
