"""`xjit.Tensor`: a numpy array with torch's interface (inference only: no autograd)."""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit.ops import types as _t


class Size(tuple):
    """`torch.Size`: a tuple of ints that prints like torch's."""

    def __repr__(self) -> str:
        return f"xjit.Size([{', '.join(str(d) for d in self)}])"


def _fmt(a: np.ndarray) -> str:
    opts: dict[str, Any] = {}
    if a.dtype.kind == "f":
        opts = {"precision": 4, "floatmode": "fixed", "suppress_small": False}
        # torch's "int mode": floats that are all whole numbers print as `1.`, unless the range
        # calls for scientific notation (which numpy picks by the same rule as torch).
        nz = np.abs(a[np.isfinite(a) & (a != 0)])
        if np.all(nz == np.round(nz)) and not (
            nz.size and (nz.max() / nz.min() > 1000 or nz.max() > 1e8)
        ):
            opts["precision"] = 0
    return np.array2string(a, separator=", ", prefix="tensor(", **opts)


# Set while tracing (frontends/trace.py): sizes of traced tensors become traced ints, and
# tensors converted to Python values become guards of the trace. None in eager mode.
_size_hook: Any = None


class Tensor:
    __slots__ = ("_a", "__weakref__")
    _a: np.ndarray

    def __init__(self, data: Any) -> None:
        self._a = data if isinstance(data, np.ndarray) else np.asarray(data)

    # -- inspection ---------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        if _size_hook is not None:
            return _size_hook(self, None)  # type: ignore[no-any-return]
        return Size(self._a.shape)

    def size(self, dim: int | None = None) -> Any:
        if _size_hook is not None:
            return _size_hook(self, dim)
        if dim is None:
            return Size(self._a.shape)
        return self._a.shape[_t.normalize_dim(dim, self._a.ndim)]

    def dim(self) -> int:
        return self._a.ndim

    ndim = property(dim)

    def numel(self) -> int:
        if _size_hook is not None and self._a.ndim:
            n = _size_hook(self, 0)
            for d in range(1, self._a.ndim):
                n = n * _size_hook(self, d)
            return n  # type: ignore[no-any-return]
        return int(self._a.size)

    @property
    def dtype(self) -> _t.DType:
        return _t.from_numpy_dtype(self._a.dtype)

    def numpy(self) -> np.ndarray:
        if _size_hook is not None:  # tracing: the data leaves the trace (a guard checks it)
            return _warn_if_tracing("numpy()", self, self._a)  # type: ignore[no-any-return]
        return self._a

    def item(self) -> Any:
        return _warn_if_tracing("item()", self, self._a.item())

    def tolist(self) -> Any:
        return _warn_if_tracing("tolist()", self, self._a.tolist())

    def __len__(self) -> int:
        if self._a.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        if _size_hook is not None:  # len() must return an int: a traced size is frozen
            return _size_hook.frozen(self, 0, "len()")  # type: ignore[no-any-return]
        return self._a.shape[0]

    def __iter__(self) -> Any:
        # x[0], x[1], ... up to len(x): a trace unrolls it, so len() is guarded (frontends/trace.py)
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        a = self._a
        suffix = ""
        if a.size == 0 and a.ndim != 1:
            suffix += f", size={tuple(a.shape)}"
        default = (np.float32,) if a.size == 0 else (np.float32, np.int64, np.bool_)
        if a.dtype not in default:
            suffix += f", dtype={self.dtype!r}"
        return f"tensor({_fmt(a)}{suffix})"

    def __bool__(self) -> bool:
        if self._a.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return _warn_if_tracing("bool()", self, bool(self._a))  # type: ignore[no-any-return]

    def __float__(self) -> float:
        return _warn_if_tracing("float()", self, float(self._a))  # type: ignore[no-any-return]

    def __int__(self) -> int:
        return _warn_if_tracing("int()", self, int(self._a))  # type: ignore[no-any-return]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self._a if _size_hook is None else _warn_if_tracing("numpy()", self, self._a)
        return a if dtype is None else a.astype(dtype)

    # -- ops: every one goes through the registry, so tracing sees it ---------------------------
    def __add__(self, other: Any) -> Tensor:
        return _call("add", self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _call("add", self, other)

    def __sub__(self, other: Any) -> Tensor:
        return _call("sub", self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _call("rsub", self, other)

    def __mul__(self, other: Any) -> Tensor:
        return _call("mul", self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _call("mul", self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _call("div", self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _call("mul", _call("reciprocal", self), other)

    def __matmul__(self, other: Any) -> Tensor:
        return _call("matmul", self, other)

    def __neg__(self) -> Tensor:
        return _call("neg", self)

    def __abs__(self) -> Tensor:
        return _call("abs", self)

    def __pow__(self, other: Any) -> Tensor:
        return _call("pow", self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _call("pow", other, self)

    def __lt__(self, other: Any) -> Tensor:
        return _call("lt", self, other)

    def __le__(self, other: Any) -> Tensor:
        return _call("le", self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _call("gt", self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _call("ge", self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _call("eq", self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _call("ne", self, other)

    __hash__ = object.__hash__  # tensors hash by identity, as in torch

    def __getitem__(self, index: Any) -> Tensor:
        from xjit.ops.shape_ops import getitem

        return getitem(_call, self, index)

    # Methods whose sizes may be given as varargs: x.view(3, 4) as well as x.view((3, 4)).
    def view(self, *size: Any) -> Tensor:
        return _call("view", self, _sizes(size))

    def reshape(self, *shape: Any) -> Tensor:
        return _call("reshape", self, _sizes(shape))

    def expand(self, *size: Any) -> Tensor:
        return _call("expand", self, _sizes(size))

    def permute(self, *dims: Any) -> Tensor:
        return _call("permute", self, _sizes(dims))

    # dtype conversions: all `aten::to.dtype`.
    def to(self, dtype: Any, *args: Any, **kwargs: Any) -> Tensor:
        return _call("to", self, dtype, *args, **kwargs)

    def float(self) -> Tensor:
        return self.to(_t.float32)

    def double(self) -> Tensor:
        return self.to(_t.float64)

    def long(self) -> Tensor:
        return self.to(_t.int64)

    def int(self) -> Tensor:
        return self.to(_t.int32)

    def bool(self) -> Tensor:
        return self.to(_t.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def __getattr__(self, name: str) -> Any:
        # Tensor methods mirror the functional API: x.tanh(), x.add(y), x.mm(w), ...
        from xjit.ops.registry import OVERLOADS, _ensure_loaded

        _ensure_loaded()
        if name in OVERLOADS:
            return lambda *args, **kwargs: _call(name, self, *args, **kwargs)
        raise AttributeError(f"'Tensor' object has no attribute '{name}'")


def _sizes(size: tuple[Any, ...]) -> list[Any]:
    return list(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else list(size)


def _warn_if_tracing(what: str, t: Tensor, value: Any) -> Any:
    """Converting a traced tensor to a Python value freezes it into the trace: warn, pointing at
    the user's line (the first frame outside xjit), and record a guard (docs/frontends.md).
    Returns `value`."""
    from xjit import _dispatch

    if _dispatch.current_recorder() is None:
        return value
    if _size_hook is not None:
        _size_hook.freeze(t, what, value)
    import os
    import sys
    import warnings

    from xjit.jit.errors import TracerWarning

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        (os.path.join(root, "xjit") + os.sep, os.path.join(root, "frontends") + os.sep)
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return value
    warnings.warn_explicit(
        f"Converting a tensor to a Python value ({what}) while tracing: the trace records the "
        "value it had for the example inputs (Python control flow on it is frozen; a guard "
        "raises TraceGuardError on inputs that give another value; use xjit.jit.script to "
        "keep it)",
        TracerWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=frame.f_globals.get("__name__"),
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
    )
    return value


def _call(name: str, *args: Any, **kwargs: Any) -> Any:
    from xjit._dispatch import call

    return call(name, *args, **kwargs)
