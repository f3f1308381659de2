"""Helpers called by generated code where numpy has no single function with MLIR's semantics.

Generated modules import this as `rt`. Every helper works on arrays and on numpy scalars alike
(the scalar fallback loops call the same helpers as the vectorized code).
"""

from __future__ import annotations

import threading
import weakref

import numpy as np

from xjit import _versions
from xjit.errors import RAISE_PREFIX, ScriptError

# math.erf: one implementation with eager ops and the interpreter (xjit/ops/erf.py).
from xjit.ops.erf import erf  # noqa: F401


def aliased(a: np.ndarray) -> np.ndarray:
    """A writable view of a global's read-only view (same memory): a returned parameter or
    literal tensor aliases it, as in torch. A global bound to read-only memory stays read-only."""
    v = a.view()
    try:
        v.flags.writeable = True
    except ValueError:
        pass
    return v


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


def shift_free(row_max: np.ndarray, hi: float) -> bool:
    """True if every row maximum lies in [-16, hi] (NaN: False): softmax may then compute
    exp(v) for exp(v - max) (backends/numpy/softmax_shift.py says why that is exact enough)."""
    return row_max.size > 0 and bool(row_max.min() >= -16.0) and bool(row_max.max() <= hi)


class Transposed:
    """`g.T` of a large global (a weight bound by reference) that BLAS multiplies by, as a
    contiguous copy: numpy's OpenBLAS runs `x @ W.T` on the transposed view ~8% slower than on
    `W.T` laid out contiguously (row d of docs/benchmarks.md). Calling it returns the copy while
    the weight's memory is unchanged, else makes a new one: every xjit write to the memory bumps
    its root's version (xjit/_versions.py). It returns the view itself, every call from then
    on, once the memory was exposed to numpy users (who can write it unseen), or when copies
    keep going stale after a few calls (a weight updated between calls: a 4096x4096 copy
    costs ~3 of row d's calls). The copy is read-only: generated code only reads it."""

    __slots__ = ("view", "state", "version", "copy", "uses", "strikes", "__weakref__")

    def __init__(self, g: np.ndarray) -> None:
        self.view = g.T
        self.state = _versions.cacheable(g)
        self.version = -1
        self.copy = self.view
        self.uses = 0
        self.strikes = 0

    def __call__(self) -> np.ndarray:
        st = self.state
        if st is not None and st.version == self.version:
            self.uses += 1
            return self.copy
        return self._refresh()

    def _refresh(self) -> np.ndarray:
        st = self.state
        if self.version >= 0 and self.uses < TRANSPOSED_MIN_USES:
            self.strikes += 1
        if st is None or st.exposed or self.strikes >= TRANSPOSED_MAX_STRIKES:
            self.state, self.copy = None, self.view
            return self.view
        copy = np.ascontiguousarray(self.view)
        copy.flags.writeable = False
        self.copy, self.version, self.uses = copy, st.version, 1
        return copy


# A copy used by fewer calls than this before the weight changed was not worth making; after
# this many such copies, the weight is read as a view for good.
TRANSPOSED_MIN_USES = 8
TRANSPOSED_MAX_STRIKES = 2


# One copy per weight and layout, shared by every program (shape variants, other methods)
# bound to it: (id(root), data address, shape, strides, dtype) -> its Transposed. An entry's
# view keeps its root alive, so the id cannot be reused while the entry exists.
_transposed: weakref.WeakValueDictionary[tuple, Transposed] = weakref.WeakValueDictionary()


def transposed(g: np.ndarray) -> Transposed:
    """The shared `Transposed` of global `g` (made when a generated module loads)."""
    key = (
        id(_versions.root_of(g)),
        g.__array_interface__["data"][0],
        g.shape,
        g.strides,
        g.dtype.str,
    )
    t = _transposed.get(key)
    if t is None:
        t = _transposed[key] = Transposed(g)
    return t
