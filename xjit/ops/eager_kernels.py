"""Eager kernels of elementwise ops specialised once per argument signature (issue 14).

`elementwise()` (xjit/ops/elementwise_ops.py) re-derives nothing per call that depends only on
its arguments' kinds: the eager dispatcher (xjit/_dispatch.py) asks an op's `eager_kernels`
attribute for a `KernelCache` per *static* signature (which arguments are arrays, which are
Python numbers of which type, which are constants such as defaults), then per call looks a kernel
up by the arrays' dtypes and 0-d-ness. A kernel has the compute and result dtypes, the casts and
-- when the body is one numpy ufunc applied to the arrays as they are -- that ufunc, resolved.

Floating-point warnings are silenced per call as `np.errstate(all="ignore")` does, through the
context variable numpy's errstate sets (np.errstate itself costs ~0.9 µs, more than a small add).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from xjit.ops.types import DType, TensorMeta, from_numpy_dtype

# A static signature: per schema argument ("t",) an array, ("s", type) a Python number of that
# type, ("c", value) a value fixed for the call site (a default, None).
Sig = tuple[tuple[Any, ...], ...]
Kernel = Callable[..., np.ndarray]

try:  # numpy >= 2: errstate is a context variable holding an "extobj"
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _IGNORE: Any = _make_extobj(all="ignore")
except (ImportError, TypeError):  # pragma: no cover - other numpy versions: the public API
    _extobj_contextvar = None
    _IGNORE = None
# For generated callers (xjit/_dispatch.py) that set and reset it inline: ERRSTATE.set(IGNORE).
ERRSTATE, IGNORE = _extobj_contextvar, _IGNORE


def silence() -> Any:
    """Floating-point warnings off until `unsilence(token)` (IEEE results, as torch gives them):
    what `np.errstate(all="ignore")` does, without building a context manager per call."""
    if _extobj_contextvar is None:  # pragma: no cover
        es = np.errstate(all="ignore")
        es.__enter__()
        return es
    return _extobj_contextvar.set(_IGNORE)


def unsilence(token: Any) -> None:
    if _extobj_contextvar is None:  # pragma: no cover
        token.__exit__(None, None, None)
    else:
        _extobj_contextvar.reset(token)


class _Sym:
    """An array argument while probing a body for a single ufunc."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Node:
    __slots__ = ("args", "ufunc")

    def __init__(self, ufunc: np.ufunc, args: tuple[Any, ...]) -> None:
        self.ufunc, self.args = ufunc, args


class _ProbeOps:
    """Stands for NumpyOps: a plain-ufunc op on array symbols gives a node; anything else (a
    nested op, `is_float`, a helper that is not a ufunc) raises, and the probe gives up."""

    def __init__(self, numpy_ops: Any) -> None:
        self._ops = numpy_ops

    def __getattr__(self, name: str) -> Any:
        u = getattr(type(self._ops), name, None)
        if not isinstance(u, np.ufunc):
            raise LookupError(name)

        def node(*args: Any) -> _Node:
            if not all(isinstance(a, _Sym) for a in args):
                raise LookupError(name)
            return _Node(u, args)

        return node


class KernelCache:
    """The kernels of one op at one static signature, by the arrays' (dtype, 0-d?) pairs.

    An entry is (kernel, result dtype): the kernel takes the arrays and numbers (constants are
    built in) and returns the body's raw result; the caller silences floating-point warnings
    (`silence()`) and converts the result to the result dtype if it is not already an array of
    it. For a body that is one ufunc on uncast arrays, the kernel is that ufunc."""

    def __init__(self, spec: ElementwiseSpec, sig: Sig) -> None:
        self.spec, self.sig = spec, sig
        self.kernels: dict[tuple[Any, ...], tuple[Kernel, np.dtype]] = {}
        # Only arrays may go to a bare ufunc: a Python number could steer the body (alpha == 1).
        self._probe_ok = all(s[0] != "s" for s in sig)

    def build(self, key: tuple[Any, ...]) -> tuple[Kernel, np.dtype]:
        """The entry for `key` = (dtype, is_0d) of each array argument, flattened."""
        spec, sig = self.spec, self.sig
        rule_args: list[Any] = []
        pairs = iter(zip(key[::2], key[1::2]))
        for s in sig:
            if s[0] == "t":
                dt, zero = next(pairs)
                rule_args.append(TensorMeta(() if zero else (1,), from_numpy_dtype(dt)))
            elif s[0] == "s":
                rule_args.append(s[1]())  # promotion looks at a number's type only
            else:
                rule_args.append(s[1])
        cd: DType = spec.compute_rule(*rule_args)
        rdt = np.dtype(spec.result_rule(cd).np)
        casts = self._casts(key, cd.np)
        general = self._general(casts)
        direct = self._direct() if self._probe_ok and not any(casts) else None
        entry = (general if direct is None else self._checked_once(key, direct, general, rdt), rdt)
        self.kernels[key] = entry
        return entry

    def _casts(self, key: tuple[Any, ...], cd: Any) -> list[Any]:
        """Per kernel argument (arrays and numbers, in order), the dtype to cast it to, or None."""
        casts: list[Any] = []
        dts = iter(key[::2])
        for i, s in enumerate(self.sig):
            if s[0] == "t":
                dt = next(dts)
                casts.append(None if i in self.spec.skip or dt == cd else np.dtype(cd))
            elif s[0] == "s":
                # an integer/bool computation takes a Python number as that dtype (masked_fill of
                # an int64 tensor with 2.5 fills 2), as the compiled body's constants do, not as
                # numpy's float64 (which would round the tensor's large values)
                int_compute = np.dtype(cd).kind in "iub" and i not in self.spec.skip
                casts.append(np.dtype(cd) if int_compute else None)
        return casts

    def _general(self, casts: list[Any]) -> Kernel:
        """Casts and the body: what `elementwise`'s eager does, without re-deriving dtypes."""
        consts = [(i, s[1]) for i, s in enumerate(self.sig) if s[0] == "c"]
        body, ops = self.spec.body, self.spec.numpy_ops

        def general(*xs: Any) -> Any:
            args = [x if c is None else _cast(x, c) for x, c in zip(xs, casts)]
            for i, v in consts:
                args.insert(i, v)
            return body(ops, *args)

        return general

    def _direct(self) -> Kernel | None:
        """The body as one ufunc on the arrays in their order, if it is that."""
        syms = iter(range(len(self.sig)))
        args = [_Sym(next(syms)) if s[0] == "t" else s[1] for s in self.sig]
        arity = sum(s[0] == "t" for s in self.sig)
        try:
            node = self.spec.body(_ProbeOps(self.spec.numpy_ops), *args)
        except Exception:  # noqa: BLE001 - anything but one ufunc: the general kernel
            return None
        if not isinstance(node, _Node):
            return None
        order = tuple(a.index for a in node.args)
        return node.ufunc if order == tuple(range(arity)) else None

    def _checked_once(
        self, key: tuple[Any, ...], direct: Kernel, general: Kernel, rdt: np.dtype
    ) -> Kernel:
        """The direct kernel, once compared with the general one on the first call's arguments
        (a probe that misread a body gives way to the general kernel, not to other values)."""

        def first(*xs: Any) -> Any:
            want = np.asarray(general(*xs), rdt)
            got = np.asarray(direct(*xs), rdt)
            nan = want.dtype.kind in "fc"
            same = got.shape == want.shape and np.array_equal(got, want, equal_nan=nan)
            self.kernels[key] = (direct if same else general, rdt)
            return want

        return first


def _cast(x: Any, dtype: np.dtype) -> Any:
    """An array or a Python number as `dtype` (a number out of its range raises, as in torch)."""
    return x.astype(dtype, copy=False) if isinstance(x, np.ndarray) else scalar_as(x, dtype)


def scalar_as(x: Any, dtype: np.dtype) -> Any:
    """A Python number as a numpy scalar of the integer/bool `dtype`: truncated towards zero
    (2.5 -> 2), nonzero is true; NaN, infinities and values out of range raise."""
    if dtype.kind == "b":
        return np.bool_(x)
    if isinstance(x, float) and not (-(2.0**63) <= x < 2.0**63):
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")
    v = int(x)
    if not np.iinfo(dtype).min <= v <= np.iinfo(dtype).max:
        raise RuntimeError(f"value cannot be converted to type {dtype} without overflow")
    return dtype.type(v)


class ElementwiseSpec:
    """What `elementwise()` knows of an op, for building kernels: the body, the dtype rules,
    the argument positions that are not cast (`alpha`, `where`'s condition)."""

    def __init__(
        self,
        body: Callable[..., Any],
        numpy_ops: Any,
        compute_rule: Callable[..., DType],
        result_rule: Callable[[DType], DType],
        skip: set[int],
    ) -> None:
        self.body, self.numpy_ops = body, numpy_ops
        self.compute_rule, self.result_rule, self.skip = compute_rule, result_rule, skip
        self._caches: dict[Sig, KernelCache] = {}

    def __call__(self, sig: Sig) -> KernelCache:
        c = self._caches.get(sig)
        if c is None:
            c = self._caches[sig] = KernelCache(self, sig)
        return c
