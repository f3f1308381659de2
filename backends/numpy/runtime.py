"""Helpers called by generated code where numpy has no single function with MLIR's semantics.

Generated modules import this as `rt`. Every helper works on arrays and on numpy scalars alike
(the scalar fallback loops call the same helpers as the vectorized code).
"""

from __future__ import annotations

import threading

import numpy as np

from xjit.errors import RAISE_PREFIX, ScriptError

# math.erf in float64 (and any non-float32 dtype): the op registry's vectorized erf (the same
# implementation as eager and the reference interpreter; never scipy, which is not a dependency
# and slow to import). It sums a 64-term series in float64: exact, but ~25 ms on 128K elements.
from xjit.ops.elementwise_ops import erf as _erf_series

# float32 erf: a rational approximation x·P(x²)/Q(x²) on x clamped to [-4, 4] (beyond, erf is
# ±1 in float32), the one Eigen and XLA vectorize for float32. Evaluated in float32 by Horner's
# rule: at most 7.5 ulp (relative error < 5e-7) over all floats, checked against the float64
# series in tests/test_numpy_erf.py; 40x faster than the series (GELU's erf in a GPT block).
_ERF_P = tuple(
    np.float32(c)
    for c in (
        -2.72614225801306e-10,
        2.77068142495902e-08,
        -2.10102402082508e-06,
        -5.69250639462346e-05,
        -7.34990630326855e-04,
        -2.95459980854025e-03,
        -1.60960333262415e-02,
    )
)
_ERF_Q = tuple(
    np.float32(c)
    for c in (
        -1.45660718464996e-05,
        -2.13374055278905e-04,
        -1.68282697438203e-03,
        -7.37332916720468e-03,
        -1.42647390514189e-02,
    )
)
_F32 = np.dtype(np.float32)


_scratch = threading.local()


def _scratch_f32(shape, k):
    """`k` float32 work arrays of `shape`, reused across calls by this thread: erf's clamped
    input, its square and the denominator. Fresh 512 KB arrays cost more in page faults than
    the whole polynomial (measured 0.9 ms vs 0.2 ms on GELU's 4x64x512)."""
    n = int(np.prod(shape))
    pool = getattr(_scratch, "f32", None)
    if pool is None or pool.shape[1] < n or pool.shape[0] < k:
        pool = _scratch.f32 = np.empty((k, n), np.float32)
    return [pool[i, :n].reshape(shape) for i in range(k)]


def _horner(x2, coeffs, out):
    """coeffs[0]·x2^(n-1) + ... + coeffs[-1], in place in `out` (no temporaries)."""
    r = np.multiply(x2, coeffs[0], out=out)
    r = np.add(r, coeffs[1], out=r)
    for c in coeffs[2:]:
        r = np.multiply(r, x2, out=r)
        r = np.add(r, c, out=r)
    return r


def erf(x):
    """math.erf: the float32 rational approximation for float32 data, else the float64 series.
    NaN stays NaN (the clamp propagates it), ±inf gives ±1."""
    if getattr(x, "dtype", None) != _F32:
        return _erf_series(x)
    if not isinstance(x, np.ndarray) or x.ndim == 0:  # a scalar (scalar loops): same formula
        return erf(np.reshape(x, (1,)))[0]
    c, x2, q = _scratch_f32(x.shape, 3)
    np.clip(x, np.float32(-4.0), np.float32(4.0), out=c)
    np.multiply(c, c, out=x2)
    p = _horner(x2, _ERF_P, np.empty(x.shape, np.float32))
    q = _horner(x2, _ERF_Q, q)
    p = np.divide(p, q, out=p)  # ≈ 2/√π, before the factor x: x·P would be denormal near 1e-38
    return np.multiply(p, c, out=p)


def divsi(a, b):
    """arith.divsi: integer division truncating toward zero (C), unlike numpy's floor division."""
    # a - fmod(a, b) is an exact multiple of b, so floor division of it is the truncated quotient.
    return np.floor_divide(np.subtract(a, np.fmod(a, b)), b)


def ceildivsi(a, b):
    """arith.ceildivsi: integer division rounding toward +inf."""
    return np.negative(np.floor_divide(np.negative(a), b))


def _unsigned(x):
    x = np.asarray(x)
    return x.view(x.dtype.str.replace("i", "u")) if x.dtype.kind == "i" else x


def divui(a, b):
    return np.floor_divide(_unsigned(a), _unsigned(b)).astype(np.asarray(a).dtype)


def remui(a, b):
    return np.remainder(_unsigned(a), _unsigned(b)).astype(np.asarray(a).dtype)


def ceildivui(a, b):
    ua, ub = _unsigned(a), _unsigned(b)
    return (ua // ub + (ua % ub != 0)).astype(np.asarray(a).dtype)


def maxui(a, b):
    return np.where(_unsigned(a) >= _unsigned(b), a, b)


def minui(a, b):
    return np.where(_unsigned(a) <= _unsigned(b), a, b)


def cmpu(ufunc, a, b):
    """Unsigned integer comparison (cmpi ult/ule/ugt/uge)."""
    return ufunc(_unsigned(a), _unsigned(b))


def to_unsigned(x):
    return _unsigned(x)


def round_half_away(x):
    """math.round: halves away from zero (np.round rounds halves to even)."""
    t = np.trunc(x)
    return np.where(np.abs(np.subtract(x, t)) >= 0.5, np.add(t, np.sign(x)), t).astype(
        np.asarray(x).dtype
    )


def rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def fma(a, b, c):
    """math.fma, computed unfused (numpy has no fused multiply-add)."""
    return np.add(np.multiply(a, b), c)


def shrui(a, b):
    """arith.shrui: logical right shift (numpy shifts signed ints arithmetically)."""
    return np.right_shift(_unsigned(a), _unsigned(b)).astype(np.asarray(a).dtype)[()]


def _errstate_enter(_ignored):
    state = np.errstate(all="ignore")
    state.__enter__()
    return state


def _errstate_exit(state) -> None:
    state.__exit__(None, None, None)


# Generated functions run with floating-point errors ignored (IEEE results, no warnings, as
# torch): `_fp = fp_set(FP_IGNORE)` ... `fp_reset(_fp)`. numpy 2 keeps that state in a context
# variable; setting it directly costs ~0.1 µs where `with np.errstate(...)` costs ~1 µs.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _fp_state

    with np.errstate(all="ignore"):
        FP_IGNORE = _fp_state.get()
    fp_set, fp_reset = _fp_state.set, _fp_state.reset
except (ImportError, AttributeError):  # pragma: no cover - other numpy versions
    FP_IGNORE, fp_set, fp_reset = None, _errstate_enter, _errstate_exit


class Arena:
    """The call-local buffers of one generated function (backends/numpy/buffers.py), kept from
    one call to the next: slot k holds the array of the k-th call-local allocation, reallocated
    only when its shape or dtype changes. A call `acquire`s it for its duration; a recursive or
    concurrent call finds it busy and gets a fresh arena of its own (plain `np.empty` arrays)."""

    __slots__ = ("_lock", "_slots")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[int, np.ndarray] = {}

    def acquire(self) -> Arena:
        return self if self._lock.acquire(blocking=False) else Arena()

    def release(self, arena: Arena) -> None:
        if arena is self:
            self._lock.release()

    def get(self, k: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        a = self._slots.get(k)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self._slots[k] = np.empty(shape, dtype)
        return a


class BadArgument(ValueError):
    """An argument of a generated function has the wrong dtype or shape."""


class ShapeMismatch(ValueError):
    """Run-time sizes contradict what the compiled program assumed (a `cf.assert` failed)."""


def assertion_failed(message: str, got=None, expected=None) -> None:
    """A `cf.assert` failed; `got`/`expected` are the sizes its `arith.cmpi eq` compared (the
    operand's size first, then the size it must agree with), when the check is one."""
    if message.startswith(RAISE_PREFIX):  # a scripted `raise` / `assert` (errors.py)
        raise ScriptError(message[len(RAISE_PREFIX) :])
    if got is not None:
        message += f" (got {got}, expected {expected})"
    raise ShapeMismatch(message)


def bad_arg(name: str, value, dtype, shape) -> None:
    """Raised by the argument guard at the top of each generated function."""
    got = f"{getattr(value, 'dtype', type(value).__name__)} {getattr(value, 'shape', '')}"
    want = f"{np.dtype(dtype)} {tuple('?' if d is None else d for d in shape)}"
    raise BadArgument(f"argument {name}: expected {want}, got {got}")
