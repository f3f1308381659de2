"""Devices and grad modes as model code spells them: `torch.device('cpu')`, `torch.no_grad()`.

xjit runs on the CPU only and has no autograd: these exist so that model files get past their
first lines. A device other than the CPU is accepted as a name (`torch.device('cuda')` is
common in `device = ... if torch.cuda.is_available() else ...`) but using it is an error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class device:  # noqa: N801  (torch.device)
    """`torch.device`: a device type and optional index."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # torch.device(0) is cuda:0
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string or a device, got {type!r}")
        name, _, idx = type.partition(":")
        if idx:
            if index is not None:
                raise RuntimeError(f"device string {type!r} already has an index")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta, xpu device type: '{type}'")
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("device is immutable")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"


CPU = device("cpu")


def check_device(d: Any, what: str = "device") -> None:
    """Accept None, 'cpu', 'cpu:0' or a CPU device; anything else is a clear error."""
    if d is None:
        return
    if not isinstance(d, (str, device, int)):
        raise TypeError(f"{what}: expected a device or a string, got {type(d).__name__}")
    dev = device(d)
    if dev.type != "cpu":
        raise RuntimeError(
            f"{what}={str(dev)!r}: xjit runs on the CPU only (use 'cpu'; "
            "xjit.cuda.is_available() is False)"
        )


def is_device(v: Any) -> bool:
    """A positional argument of `.to(...)` that names a device."""
    if isinstance(v, device):
        return True
    if isinstance(v, str):
        try:
            device(v)
        except RuntimeError:
            return False
        return True
    return False


class _Accelerator:
    """`torch.cuda`: never available."""

    def __init__(self, name: str) -> None:
        self._name = name

    def is_available(self) -> bool:
        return False

    def device_count(self) -> int:
        return 0

    def is_built(self) -> bool:
        return False

    def manual_seed(self, seed: int) -> None:
        pass  # no generator to seed

    manual_seed_all = manual_seed


cuda = _Accelerator("cuda")

# (`torch.backends`: the flags are in the `xjit.backends` package, beside the code generators)


# -- grad modes ------------------------------------------------------------------------------------

_grad_enabled = [True]


def is_grad_enabled() -> bool:
    """Always tracks the innermost grad mode (xjit computes no gradients either way)."""
    return _grad_enabled[-1]


class _GradMode:
    """A context manager that is also a decorator, with or without parentheses
    (`@torch.no_grad()`, `@torch.no_grad`), as torch's."""

    _enabled: bool = False

    def __new__(cls, orig_func: Any = None, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        if callable(orig_func) and not isinstance(orig_func, bool):
            self.__init__()  # type: ignore[misc]
            return self(orig_func)  # bare decorator: @torch.no_grad
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __enter__(self) -> None:
        _grad_enabled.append(self._enabled)

    def __exit__(self, *exc: Any) -> None:
        _grad_enabled.pop()

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        mode = self

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode:
                return fn(*args, **kwargs)

        return wrapper

    def clone(self) -> _GradMode:
        return self


class no_grad(_GradMode):  # noqa: N801
    _enabled = False


class enable_grad(_GradMode):  # noqa: N801
    _enabled = True


class inference_mode(_GradMode):  # noqa: N801
    def __init__(self, mode: bool = True) -> None:
        self._enabled = not mode


class set_grad_enabled(_GradMode):  # noqa: N801
    """Takes effect on construction, as torch's (`torch.set_grad_enabled(False)` as a statement)."""

    def __new__(cls, mode: Any = None) -> Any:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled() expects a bool, got {type(mode).__name__}")
        self._prev = _grad_enabled[-1]
        self._enabled = mode
        _grad_enabled[-1] = mode

    def __enter__(self) -> None:
        _grad_enabled.append(self._enabled)

    def __exit__(self, *exc: Any) -> None:
        _grad_enabled.pop()
        _grad_enabled[-1] = self._prev
