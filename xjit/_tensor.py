"""`xjit.Tensor`: a numpy array with torch's interface (inference only: no autograd)."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import numpy as np

from xjit import _dispatch, _splitting, _versions
from xjit._device import CPU, check_device, is_device
from xjit.errors import TracerWarning
from xjit.ops import types as _t
from xjit.ops.registry import OVERLOADS, ensure_loaded
from xjit.ops.rng import generator as _rng


class Size(tuple):
    """`torch.Size`: a tuple of ints that prints like torch's."""

    def __repr__(self) -> str:
        return f"xjit.Size([{', '.join(str(d) for d in self)}])"

    def __getitem__(self, i: Any) -> Any:  # a slice of a Size is a Size, as in torch
        r = super().__getitem__(i)
        return Size(r) if isinstance(i, slice) else r


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

    def __init__(self, data: Any = (), *sizes: Any) -> None:
        if isinstance(data, np.ndarray):  # a numpy user's array (`torch.Tensor(a)`): shared
            _versions.expose(data)  # writes through `a` bypass xjit (xjit/_versions.py)
            self._a = data
        elif isinstance(data, np.generic):
            self._a = np.asarray(data)
        else:  # user code: torch's legacy constructor, `torch.Tensor(2, 3)` / `([1, 2])`
            self._a = legacy_data(np.float32, data, sizes)

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

    def ndimension(self) -> int:
        return self._a.ndim

    def nelement(self) -> int:
        return self.numel()

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return bool(self._a.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> Any:
        """Element strides of the array (views share them with their base, as in torch)."""
        strides = tuple(s // self._a.itemsize for s in self._a.strides)
        return strides if dim is None else strides[_t.normalize_dim(dim, self._a.ndim)]

    @property
    def T(self) -> Tensor:  # noqa: N802  (torch's name)
        return _call("permute", self, list(range(self._a.ndim))[::-1])

    @property
    def mT(self) -> Tensor:  # noqa: N802  (torch's name)
        if self._a.ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got "
                f"{self._a.ndim}-D tensor."
            )
        return _call("transpose", self, -2, -1)

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
        _versions.expose(self._a)  # the caller may write it where xjit cannot see
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
        return _warn_if_tracing("float()", self, float(self._scalar()))  # type: ignore[no-any-return]

    def __int__(self) -> int:
        return _warn_if_tracing("int()", self, int(self._scalar()))  # type: ignore[no-any-return]

    def _scalar(self) -> Any:
        # torch converts any one-element tensor, whatever its rank (numpy 2 only 0-d arrays)
        if self._a.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._a.item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self._a if _size_hook is None else _warn_if_tracing("numpy()", self, self._a)
        if dtype is not None:
            return a.astype(dtype)
        if copy:  # np.array(t): numpy asks for a copy, the memory stays xjit's
            return a.copy()
        _versions.expose(a)  # np.asarray(t): shared with the caller
        return a

    # -- ops: every one goes through the registry, so tracing sees it ---------------------------
    # Binary operators: `_dispatch.call(op, self, other)` with the resolution cached by type(other).
    __add__ = _dispatch.method("add")

    __radd__ = _dispatch.method("add")

    __sub__ = _dispatch.method("sub")

    __rsub__ = _dispatch.method("rsub")

    __mul__ = _dispatch.method("mul")

    __rmul__ = _dispatch.method("mul")

    __truediv__ = _dispatch.method("div")

    def __rtruediv__(self, other: Any) -> Tensor:
        return _call("mul", _call("reciprocal", self), other)

    __floordiv__ = _dispatch.method("floor_divide")

    __mod__ = _dispatch.method("remainder")

    def __rmod__(self, other: Any) -> Tensor:
        return _call("remainder", other, self)

    __matmul__ = _dispatch.method("matmul")

    def __neg__(self) -> Tensor:
        return _call("neg", self)

    def __abs__(self) -> Tensor:
        return _call("abs", self)

    __pow__ = _dispatch.method("pow")

    def __rpow__(self, other: Any) -> Tensor:
        return _call("pow", other, self)

    def __rfloordiv__(self, other: Any) -> Tensor:
        # `2 // t`: the scalar as a tensor of the result dtype (torch wraps it the same way)
        dt = _t.promote_with_scalar(self.dtype, other)
        return _call("floor_divide", _call("full_like", self, other, dtype=dt), self)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _call("matmul", other, self)

    # Bitwise operators (issue 12): integers and bools; torch refuses floats, with its message.
    __and__ = _dispatch.method("bitwise_and")

    __rand__ = _dispatch.method("bitwise_and")

    __or__ = _dispatch.method("bitwise_or")

    __ror__ = _dispatch.method("bitwise_or")

    __xor__ = _dispatch.method("bitwise_xor")

    __rxor__ = _dispatch.method("bitwise_xor")

    __lshift__ = _dispatch.method("bitwise_left_shift")

    __rshift__ = _dispatch.method("bitwise_right_shift")

    def __rlshift__(self, other: Any) -> Tensor:
        return _call("bitwise_left_shift", other, self)

    def __rrshift__(self, other: Any) -> Tensor:
        return _call("bitwise_right_shift", other, self)

    def __invert__(self) -> Tensor:
        if self.dtype.is_floating_point:
            raise TypeError(
                "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
            )
        return _call("bitwise_not", self)

    def __contains__(self, element: Any) -> bool:
        if not isinstance(element, (Tensor, bool, int, float)):
            raise RuntimeError(
                "Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                f"{type(element)}."
            )
        return bool(_call("any", _call("eq", self, element)))

    def __index__(self) -> int:
        if self.dtype.kind != 1 or self._a.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return _warn_if_tracing("__index__()", self, int(self._a))  # type: ignore[no-any-return]

    __lt__ = _dispatch.method("lt")

    __le__ = _dispatch.method("le")

    __gt__ = _dispatch.method("gt")

    __ge__ = _dispatch.method("ge")

    __eq__ = _dispatch.method("eq")  # type: ignore[assignment]

    __ne__ = _dispatch.method("ne")  # type: ignore[assignment]

    __hash__ = object.__hash__  # tensors hash by identity, as in torch

    def __getitem__(self, index: Any) -> Tensor:
        ensure_loaded()  # the op modules load together, in registry order (OVERLOADS' order)
        from xjit.ops.shape_ops import getitem  # lazy: shape_ops registers ops when imported

        r = getitem(_call, self, index)
        if r is self and _size_hook is None:  # `x[:]`, `x[...]`: a new view, as in torch
            return alias(self._a[...])
        return r

    # Methods whose sizes may be given as varargs: x.view(3, 4) as well as x.view((3, 4)).
    def view(self, *size: Any) -> Tensor:
        return _call("view", self, _sizes(size))

    def reshape(self, *shape: Any) -> Tensor:
        return _call("reshape", self, _sizes(shape))

    def permute(self, *dims: Any) -> Tensor:
        return _call("permute", self, _sizes(dims))

    def expand_as(self, other: Tensor) -> Tensor:
        return _call("expand", self, list(other.shape))

    def expand(self, *size: Any) -> Tensor:
        if not size:
            raise TypeError("expand() missing 1 required positional argument: 'size'")
        return _call("expand", self, _sizes(size))

    # -- torch API that model code uses (devices, dtypes, autograd no-ops, splitting) ----------
    # Conversions between dtypes are all `aten::to.dtype`; devices are checked, never recorded.
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """`.to(dtype)`, `.to(device)`, `.to(device, dtype)`, `.to(other)`, `dtype=`/`device=`."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None))
        copy = bool(kwargs.pop("copy", False))
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        rest = list(args)
        if rest and isinstance(rest[0], Tensor):
            dtype = rest.pop(0).dtype
        elif rest and is_device(rest[0]):
            check_device(rest.pop(0))
        if rest and isinstance(rest[0], _t.DType):
            dtype = rest.pop(0)
        if rest and isinstance(rest[0], bool):  # non_blocking
            rest.pop(0)
        if rest and isinstance(rest[0], bool):
            copy = rest.pop(0)
        if rest:
            raise TypeError(f"to() received an invalid combination of arguments: {args!r}")
        if dtype is None:
            return _call("clone", self) if copy else self
        if _dispatch_recording():
            return _call("to", self, dtype, False, copy)
        return self if dtype == self.dtype and not copy else _call("to", self, dtype, False, copy)

    def float(self) -> Tensor:
        return self.to(_t.float32)

    def double(self) -> Tensor:
        return self.to(_t.float64)

    def half(self) -> Tensor:
        raise TypeError("half(): float16 is not supported by xjit (use float32)")

    def bfloat16(self) -> Tensor:
        raise TypeError("bfloat16(): bfloat16 is not supported by xjit (use float32)")

    def long(self) -> Tensor:
        return self.to(_t.int64)

    def int(self) -> Tensor:
        return self.to(_t.int32)

    def bool(self) -> Tensor:
        return self.to(_t.bool_)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """`x.type(xjit.float64)` converts; `x.type()` names the type as torch does."""
        if dtype is None:
            return f"torch.{_TYPE_NAMES[self.dtype]}"
        if isinstance(dtype, str):
            by_name = {f"torch.{n}": d for d, n in _TYPE_NAMES.items()}
            if dtype not in by_name:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = by_name[dtype]
        if dtype is Tensor:  # `x.type(torch.Tensor)`: the default dtype
            dtype = _t.float32
        return self.to(getattr(dtype, "dtype", dtype))  # also `x.type(torch.LongTensor)`

    def byte(self) -> Tensor:
        raise TypeError("byte(): uint8 is not supported by xjit (use .bool() or .long())")

    def char(self) -> Tensor:
        raise TypeError("char(): int8 is not supported by xjit (use .int() or .long())")

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    @property
    def device(self) -> Any:
        return CPU

    is_cuda = False
    is_leaf = True
    grad = None

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        check_device("cuda", "cuda()")
        return self

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def element_size(self) -> int:
        return int(self._a.itemsize)

    # xjit has no autograd: these keep the values and say so in their names.
    @property
    def requires_grad(self) -> bool:
        return False

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        pass  # nothing to record: no autograd

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        return self

    def detach(self) -> Tensor:
        if _dispatch_recording():  # a view the trace knows: a new Tensor would be frozen in it
            return _call("view_as", self, self)  # (`topi.squeeze(-1).detach()` fed back)
        return alias(self._a)  # shares memory, as torch's

    def detach_(self) -> Tensor:
        return self

    def where(self, condition: Any, other: Any) -> Tensor:
        """`x.where(cond, y)` keeps x where cond holds: `torch.where(cond, x, y)`."""
        return _call("where", condition, self, other)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _splitting.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return _splitting.chunk(self, chunks, dim)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        return _splitting.nonzero_tuple(self) if as_tuple else _call("nonzero", self)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return _splitting.unbind(self, dim)

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return _splitting.tensor_split(self, indices_or_sections, dim)

    def norm(
        self, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
    ) -> Any:
        """torch.norm(self, ...), as torch's Tensor.norm (x.norm(dim=1), p='fro')."""
        # lazy: xjit._functional loads xjit.nn (its script mark), which imports this module
        from xjit._functional import norm

        return norm(self, p, dim, keepdim, dtype)

    def unique(
        self,
        sorted: bool = True,  # noqa: A002
        return_inverse: bool = False,
        return_counts: bool = False,
        dim: Any = None,
    ) -> Any:
        # lazy: xjit._torch_functions loads xjit.nn (its script marks), which imports this module
        from xjit._torch_functions import unique

        return unique(self, sorted, return_inverse, return_counts, dim)

    def allclose(
        self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> bool:
        return bool(_call("all", _call("isclose", self, other, rtol, atol, equal_nan)))

    def equal(self, other: Tensor) -> bool:
        if tuple(self.shape) != tuple(other.shape):
            return False
        return bool(_call("all", _call("eq", self, other)))

    # In-place initialisation as model files write it (`self.fc.weight.data.uniform_(-r, r)`,
    # `bias.data.zero_()`): eager only. Traced code would not see the mutation, so it is refused
    # while tracing rather than silently frozen.
    @property
    def data(self) -> Tensor:
        return self.detach()  # shares memory, as torch's

    @data.setter
    def data(self, value: Tensor) -> None:
        self._in_place("data =")
        a = value._a if isinstance(value, Tensor) else np.asarray(value)
        if a.shape == self._a.shape and a.dtype == self._a.dtype:
            _versions.wrote(self._a)
            np.copyto(self._a, a)  # keeps the array that compiled modules are bound to
        else:
            self._a = np.array(a)
            _versions.rebound()  # compiled code bound to the old array re-resolves

    def _in_place(self, what: str) -> None:
        if _dispatch_recording():
            raise NotImplementedError(
                f"in-place {what} while tracing is not supported (the trace would not see it)"
            )

    def _fill(self, what: str, values: Any) -> Tensor:
        self._in_place(what)
        _versions.wrote(self._a)
        self._a[...] = np.asarray(values).astype(self._a.dtype, copy=False)
        return self

    # zero_/fill_/copy_ in traced code (`torch.empty(b, 1, dtype=torch.long).fill_(SOS_token)`,
    # the seq2seq tutorial's decoder) record their out-of-place op, as `x += y` does (_assign)
    def zero_(self) -> Tensor:
        if _dispatch_recording():
            return self._assign("zero_()", _call("zeros_like", self))
        return self._fill("zero_()", 0)

    def fill_(self, value: Any) -> Tensor:
        if _dispatch_recording():
            if isinstance(value, Tensor):  # a 0-d tensor: torch's fill_.Tensor
                if value.dim() != 0:
                    raise RuntimeError(
                        "fill_ only supports 0-dimension value tensor but got tensor with "
                        f"{value.dim()} dimensions."
                    )
                return self._assign("fill_()", _call("expand_as", value.to(self.dtype), self))
            return self._assign("fill_()", _call("full_like", self, value))
        return self._fill("fill_()", value.item() if isinstance(value, Tensor) else value)

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        if _dispatch_recording() and isinstance(src, Tensor):
            return self._assign("copy_()", _call("expand_as", src.to(self.dtype), self))
        a = src._a if isinstance(src, Tensor) else np.asarray(src)
        return self._fill("copy_()", np.broadcast_to(a, self._a.shape))

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        return self._fill("uniform_()", _rng().uniform(a, b, self._a.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        return self._fill("normal_()", _rng().normal(mean, std, self._a.shape))

    # x.new_zeros(...): a new tensor of x's dtype (unless given)
    def new_zeros(self, *size: Any, dtype: Any = None, **kw: Any) -> Tensor:
        check_factory_kwargs(**kw)
        return _call("zeros", list(factory_size(size)), dtype=dtype or self.dtype)

    def new_ones(self, *size: Any, dtype: Any = None, **kw: Any) -> Tensor:
        check_factory_kwargs(**kw)
        return _call("ones", list(factory_size(size)), dtype=dtype or self.dtype)

    def new_empty(self, *size: Any, dtype: Any = None, **kw: Any) -> Tensor:
        return self.new_zeros(*size, dtype=dtype, **kw)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, **kw: Any) -> Tensor:
        check_factory_kwargs(**kw)
        return _call("full", list(factory_size((size,))), fill_value, dtype=dtype or self.dtype)

    def new_tensor(self, data: Any, dtype: Any = None, **kw: Any) -> Tensor:
        check_factory_kwargs(**kw)
        return from_data(data, dtype or self.dtype)

    def repeat(self, *sizes: Any) -> Tensor:
        return _call("repeat", self, _sizes(sizes))

    def flip(self, *dims: Any) -> Tensor:
        return _call("flip", self, _sizes(dims))

    def __getattr__(self, name: str) -> Any:
        # Tensor methods mirror the functional API: x.tanh(), x.add(y), x.mm(w), ...; and every
        # op's in-place form, x.add_(y), x.clamp_(0, 1), ... (see `_assign`).
        ensure_loaded()
        if name in OVERLOADS:
            return lambda *args, **kwargs: _call(name, self, *args, **kwargs)
        if name in _RESHAPING_INPLACE:
            return lambda *args, **kwargs: self._reshape_inplace(
                f"{name}()", _call(name[:-1], self, *args, **kwargs)
            )
        if name.endswith("_") and name[:-1] in OVERLOADS:
            return lambda *args, **kwargs: self._assign(
                f"{name}()", _call(name[:-1], self, *args, **kwargs)
            )
        raise AttributeError(f"'Tensor' object has no attribute '{name}'")

    # -- in-place updates (eager): `x += y`, `x.add_(y)`, `x[i] = v` ----------------------------
    # They write into the tensor's array, so every alias (views, `y = x`, modules and compiled
    # code bound to a parameter) sees the update, as in torch. A trace records the out-of-place
    # op and rebinds the tensor to its result, where no alias could miss that (frontends/trace.py).
    def _reshape_inplace(self, what: str, result: Tensor) -> Tensor:
        # `x.t_()`, `x.unsqueeze_(0)`, ...: torch changes the tensor's shape and strides, not its
        # data; the tensor becomes the view (aliases keep their own shape, as in torch).
        if _size_hook is not None and _dispatch_recording():
            _size_hook.restride(self, result, what)
        self._a = result._a
        _versions.rebound()  # compiled code bound to the old array re-resolves
        return self

    def _assign(self, what: str, result: Any) -> Tensor:
        if _size_hook is not None and _dispatch_recording():
            _size_hook.mutate(self, result, what)  # the trace's value of `self` is now `result`'s
        r = result._a if isinstance(result, Tensor) else np.asarray(result)
        if r.shape != self._a.shape:
            try:
                shape = np.broadcast_shapes(r.shape, self._a.shape)
            except ValueError as exc:
                raise _dispatch.broadcast_error(exc, [self._a, r]) from None
            if shape != self._a.shape:
                raise RuntimeError(
                    f"output with shape {list(self._a.shape)} doesn't match the broadcast shape "
                    f"{list(shape)}"
                )
        want, got = self.dtype, _t.from_numpy_dtype(r.dtype)
        if got.kind > want.kind:  # torch's canCast: no float -> integer, no number -> bool
            raise RuntimeError(
                f"result type {got.name} can't be cast to the desired output type {want.name}"
            )
        _versions.wrote(self._a)
        self._a[...] = r
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._assign("+=", _call("add", self, other))

    def __isub__(self, other: Any) -> Tensor:
        return self._assign("-=", _call("sub", self, other))

    def __imul__(self, other: Any) -> Tensor:
        return self._assign("*=", _call("mul", self, other))

    def __itruediv__(self, other: Any) -> Tensor:
        return self._assign("/=", _call("div", self, other))

    def __ifloordiv__(self, other: Any) -> Tensor:
        return self._assign("//=", _call("floor_divide", self, other))

    def __imod__(self, other: Any) -> Tensor:
        return self._assign("%=", _call("remainder", self, other))

    def __ipow__(self, other: Any) -> Tensor:
        return self._assign("**=", _call("pow", self, other))

    def __iand__(self, other: Any) -> Tensor:
        return self._assign("&=", _call("bitwise_and", self, other))

    def __ior__(self, other: Any) -> Tensor:
        return self._assign("|=", _call("bitwise_or", self, other))

    def __ixor__(self, other: Any) -> Tensor:
        return self._assign("^=", _call("bitwise_xor", self, other))

    def __ilshift__(self, other: Any) -> Tensor:
        return self._assign("<<=", _call("bitwise_left_shift", self, other))

    def __irshift__(self, other: Any) -> Tensor:
        return self._assign(">>=", _call("bitwise_right_shift", self, other))

    def __setitem__(self, index: Any, value: Any) -> None:
        if _size_hook is not None and _dispatch_recording():
            if _size_hook.setitem(self, index, value):  # recorded as functional ops, rebound
                return
        v = value._a if isinstance(value, Tensor) else value
        _versions.wrote(self._a)  # the advanced-index case writes a view of the same root
        idx = index if isinstance(index, tuple) else (index,)
        if not any(isinstance(i, (list, tuple)) or isinstance(i, Tensor) and i.dim() for i in idx):
            # ints (a 0-d integer tensor is one), slices, None, ...: numpy's basic indexing
            self._a[tuple(_int_index(i) for i in idx)] = v
            return
        ensure_loaded()
        from xjit.ops.shape_ops import basic_index  # lazy: shape_ops registers ops when imported

        # torch applies ints, slices and None first (a view here), then the tensor indices
        # together; on that view numpy places the broadcast dims as torch does.
        view, adv = basic_index(_call, self, index, [])
        key = tuple(_np_index(adv[d]) if d in adv else slice(None) for d in range(view.dim()))
        view._a[key] = v


def alias(a: np.ndarray) -> Tensor:
    """A Tensor of an array xjit made or already holds (a result, a view of a tensor's
    memory): unlike `Tensor(a)`, which takes a numpy user's array, nothing is marked exposed."""
    t = object.__new__(Tensor)
    t._a = a
    return t


def legacy_data(dtype: Any, data: Any, sizes: tuple[Any, ...]) -> np.ndarray:
    """The array of torch's legacy constructors (`torch.Tensor(...)`, `torch.FloatTensor(...)`):
    sizes give a tensor of that shape (uninitialised in torch: zeros here), a sequence its
    values converted to the constructor's dtype, a tensor its own array (an alias)."""
    if isinstance(data, Tensor) and not sizes:
        if data.dtype.np != dtype:
            raise TypeError(f"expected a {np.dtype(dtype).name} tensor, got {data.dtype.name}")
        return data._a
    if isinstance(data, (list, tuple)) and not isinstance(data, Size) and not sizes:
        return np.asarray(data, dtype)
    shape = tuple(data) if isinstance(data, Size) and not sizes else (data, *sizes)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise TypeError(f"new(): invalid arguments {shape!r} (sizes or a sequence of values)")
    return np.zeros(shape, dtype)


# in-place forms that change a tensor's shape, not its data: the tensor becomes the view
_RESHAPING_INPLACE = frozenset(
    {"t_", "transpose_", "squeeze_", "unsqueeze_", "swapdims_", "swapaxes_"}
)

_TYPE_NAMES = {
    _t.float32: "FloatTensor",
    _t.float64: "DoubleTensor",
    _t.int64: "LongTensor",
    _t.int32: "IntTensor",
    _t.bool_: "BoolTensor",
}


# The factories' argument handling, here so that the `new_*` methods above share it with
# xjit/_creation.py (which is built on this module and cannot be imported by it).
def factory_size(size: tuple[Any, ...]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for d in size:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 0:
            raise TypeError(f"size must be a sequence of non-negative ints, got {size!r}")
    return tuple(d if isinstance(d, int) else int(d) for d in size)  # keeps traced sizes


def check_factory_kwargs(
    device: Any = None, requires_grad: bool = False, layout: Any = None, pin_memory: bool = False
) -> None:
    """The keywords every torch factory takes besides dtype: only the CPU, no autograd."""
    check_device(device)


def from_data(data: Any, dtype: _t.DType | None) -> Tensor:
    """Copies `data`; Python floats become float32, ints int64, bools bool (torch's inference)."""
    if isinstance(data, Tensor):
        data = data._a  # read, copied below
    elif isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data):
        data = [v._a if isinstance(v, Tensor) else v for v in data]
    a = np.array(data)
    if dtype is not None:
        a = a.astype(dtype.np)
    elif a.dtype.kind == "f":
        a = a.astype(np.float32) if not isinstance(data, np.ndarray) else a
    elif a.dtype.kind in "iu":
        a = a.astype(np.int64) if not isinstance(data, np.ndarray) else a
    _t.from_numpy_dtype(a.dtype)  # rejects dtypes xjit does not support
    return Tensor(a)


def _int_index(i: Any) -> Any:
    """A 0-d integer tensor index as the int torch takes it for; other indices unchanged."""
    if not isinstance(i, Tensor):
        return i
    if i.dtype.kind != 1:
        raise IndexError("a 0-d index tensor must hold an integer here")
    return int(i._a)


def _np_index(i: Any) -> Any:
    """One index of `x[...] = v` as numpy takes it (a tensor index is its array)."""
    if isinstance(i, Tensor):
        if i.dtype.kind == 2:
            raise IndexError("tensors used as indices must be long, int or bool tensors")
        return i._a
    if isinstance(i, list):
        return np.asarray([_np_index(j) for j in i])
    return i


def _sizes(size: tuple[Any, ...]) -> list[Any]:
    return list(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else list(size)


def _dispatch_recording() -> bool:
    return _dispatch.current_recorder() is not None


def _warn_if_tracing(what: str, t: Tensor, value: Any) -> Any:
    """Converting a traced tensor to a Python value freezes it into the trace: warn, pointing at
    the user's line (the first frame outside xjit), and record a guard (docs/frontends.md).
    Returns `value`."""
    if _dispatch.current_recorder() is None:
        return value
    if _size_hook is not None:
        _size_hook.freeze(t, what, value)

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


_call = _dispatch.call
_dispatch.set_tensor_class(Tensor)
