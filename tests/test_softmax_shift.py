"""Softmax's exp without the max subtraction (backends/numpy/softmax_shift.py): taken only
behind a check of the row maxima, only when exp and sum are read nowhere but in `e / sum`, and
equal to PyTorch on both sides of the check (NaN, ±inf, huge and tiny rows included)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch as pt

import xjit as torch
from xjit.backends.numpy import runtime as rt
from xjit.backends.numpy import vectorize as V

RNG = np.random.default_rng(11)
GUARD = "rt.shift_free("


def _softmax(x):
    return torch.softmax(x, dim=-1)


def _by_hand(x):
    e = torch.exp(x - torch.amax(x, dim=-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)


def _by_hand_exp_too(x):
    e = torch.exp(x - torch.amax(x, dim=-1, keepdim=True))
    return e / e.sum(-1, keepdim=True), e


def _sum_too(x):
    e = torch.exp(x - torch.amax(x, dim=-1, keepdim=True))
    s = e.sum(-1, keepdim=True)
    return e / s, s


def _shift_not_max(x):  # exp(x - mean): not a row max, so no range check is possible
    e = torch.exp(x - x.mean(-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)


def _masked(x, mask):
    return torch.softmax(x.masked_fill(mask == 0, float("-inf")), dim=-1)


def _rows(shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Inputs on both sides of the check, per row: fast rows, huge rows, very negative rows,
    rows with NaN / +inf / -inf / all -inf entries."""
    base = (3 * RNG.standard_normal(shape)).astype(np.float32)
    mixed = base.copy()
    mixed[1] += 200  # max > hi: shifted path
    mixed[2] -= 60  # max < -16: shifted path
    mixed[3, 2] = np.nan
    mixed[4, 1] = np.inf
    mixed[5, :3] = -np.inf
    mixed[6] = -np.inf  # PyTorch: NaN row
    wide = (RNG.uniform(-110, 70, shape)).astype(np.float32)  # fast path, underflowing terms
    return {"normal": base, "mixed": mixed, "wide": wide, "high": base + 75, "low": base - 30}


def _check(got: np.ndarray, x: np.ndarray) -> None:
    """Equal to PyTorch's float32 softmax (whose own error grows with |x - max| * eps: it
    rounds x - max first) and, tighter, to its float64 softmax, down to FLT_MIN."""
    want = pt.softmax(pt.from_numpy(x), dim=-1).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-30)
    # float64: within 5e-6 relative (PyTorch's float32 softmax: up to 4e-6 on the wide rows)
    # and FLT_MIN absolute (the bound of softmax_shift.py for terms that underflow)
    exact = pt.softmax(pt.from_numpy(x).double(), dim=-1).numpy()
    ok = ~np.isnan(exact)
    np.testing.assert_allclose(got[ok], exact[ok], rtol=5e-6, atol=np.finfo(np.float32).tiny)


@pytest.mark.parametrize("fn", [_softmax, _by_hand])
@pytest.mark.parametrize("shape", [(64, 1024), (8, 5)])
def test_unshifted_softmax_matches_torch(fn, shape: tuple[int, int]) -> None:
    c = torch.jit.trace(fn, (torch.from_numpy(RNG.standard_normal(shape).astype(np.float32)),))
    assert c.source.count(GUARD) == 1
    assert "np.exp(arg0, " in c.source  # the unshifted form reads the input directly
    for x in _rows(shape).values():
        _check(c(torch.from_numpy(x.copy())).numpy(), x)


def test_unshifted_softmax_row_blocks_decide_per_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a row-block loop each block checks its own rows: blocks with a huge, NaN or -inf row
    take the shifted path, the others the unshifted one (37 rows, blocks of 4, ragged)."""
    monkeypatch.setattr(V, "RED_CHUNK", 64)
    monkeypatch.setattr(V, "CHUNK", 64)
    x = (3 * RNG.standard_normal((37, 16))).astype(np.float32)
    c = torch.jit.trace(_softmax, (torch.from_numpy(x.copy()),))
    assert "if rt.shift_free(buf0[:, 0, None][c0:c1], " in c.source
    assert c.source.count("for c0 in range(0, 37, 4):") == 1
    for x in _rows((37, 16)).values():
        _check(c(torch.from_numpy(x.copy())).numpy(), x)


def test_masked_softmax_unshifted_reads_the_kept_masked_scores() -> None:
    """GPT attention's softmax: the max nest keeps the masked scores; the exp reads them."""
    x = (2 * RNG.standard_normal((2, 3, 8, 8))).astype(np.float32)
    mask = np.tril(np.ones((8, 8), np.float32))
    c = torch.jit.trace(_masked, (torch.from_numpy(x.copy()), torch.from_numpy(mask)))
    assert c.source.count(GUARD) == 1
    for v in (x, x - 40, x + 90):  # row 0 has one entry: its max is that entry
        got = c(torch.from_numpy(v.copy()), torch.from_numpy(mask)).numpy()
        want = pt.softmax(
            pt.from_numpy(v).masked_fill(pt.from_numpy(mask) == 0, float("-inf")), dim=-1
        ).numpy()
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-30)


@pytest.mark.parametrize("fn", [_by_hand_exp_too, _sum_too, _shift_not_max])
def test_not_unshifted_when_exp_or_sum_escape_or_shift_is_not_the_max(fn) -> None:
    """exp(x - m) or its sum returned: the per-row factor would not cancel; a shift that is
    not the row max: its range says nothing about exp(x)."""
    x = (3 * RNG.standard_normal((6, 32))).astype(np.float32)
    c = torch.jit.trace(fn, (torch.from_numpy(x.copy()),))
    assert GUARD not in c.source
    tx = pt.from_numpy(x + 50)
    shift = tx.mean(-1, keepdim=True) if fn is _shift_not_max else tx.amax(-1, keepdim=True)
    e = pt.exp(tx - shift)
    want = (e / e.sum(-1, keepdim=True), e if fn is _by_hand_exp_too else e.sum(-1, keepdim=True))
    got = c(torch.from_numpy(x + 50))
    got = got if isinstance(got, tuple) else (got,)
    for g, w in zip(got, want, strict=False):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=2e-6, atol=1e-30)


def test_log_softmax_keeps_its_shift() -> None:
    x = (3 * RNG.standard_normal((6, 32))).astype(np.float32) + 100
    c = torch.jit.trace(lambda x: torch.log_softmax(x, dim=-1), (torch.from_numpy(x.copy()),))
    assert GUARD not in c.source
    want = pt.log_softmax(pt.from_numpy(x), dim=-1).numpy()
    np.testing.assert_allclose(c(torch.from_numpy(x.copy())).numpy(), want, rtol=1e-5, atol=1e-5)


def test_shift_free_bounds() -> None:
    hi = 80 - math.log(1024)
    assert rt.shift_free(np.array([[-16.0], [hi]], np.float32), hi)
    assert not rt.shift_free(np.array([[-16.5], [0.0]], np.float32), hi)
    assert not rt.shift_free(np.array([[0.0], [hi + 1]], np.float32), hi)
    assert not rt.shift_free(np.array([[0.0], [np.nan]], np.float32), hi)
    assert not rt.shift_free(np.array([[np.inf]], np.float32), hi)
    assert not rt.shift_free(np.array([[-np.inf]], np.float32), hi)
    assert not rt.shift_free(np.empty((0, 1), np.float32), hi)


@pytest.mark.parametrize(("shape", "dim"), [((17,), 0), ((6, 9), 0), ((3, 7, 5), 1)])
def test_unshifted_softmax_other_dims(shape: tuple[int, ...], dim: int) -> None:
    """A 0-d row max (a numpy scalar in the generated code) and non-last reduced dims."""
    x = (3 * RNG.standard_normal(shape)).astype(np.float32)
    c = torch.jit.trace(lambda x: torch.softmax(x, dim=dim), (torch.from_numpy(x.copy()),))
    assert GUARD in c.source
    for v in (x, x + 100, x - 40, np.where(x > 0, np.float32(np.nan), x)):
        got = c(torch.from_numpy(v.copy())).numpy()
        want = pt.softmax(pt.from_numpy(v), dim=dim).numpy()
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-30)
