"""torch.nn's padding modules (`ZeroPad2d`, `ConstantPad1d`, `ReflectionPad2d`, ...) over
`F.pad`, with torch's constructors and reprs."""

from __future__ import annotations

from typing import Any

from xjit.nn.conv_functional import pad
from xjit.nn.module import Module
from xjit.nn.pad_modes import pad_nonconstant


class _PadNd(Module):
    _n = 1  # the number of trailing dims padded
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        self.padding = (
            tuple(padding) if isinstance(padding, (tuple, list)) else (int(padding),) * 2 * self._n
        )
        self.value = value

    def forward(self, input: Any) -> Any:
        if self._mode == "constant":
            return pad(input, list(self.padding), "constant", self.value)
        return pad_nonconstant(input, list(self.padding), self._mode)

    def extra_repr(self) -> str:
        if self._mode == "constant":
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding, value)


class ConstantPad2d(ConstantPad1d):
    _n = 2


class ConstantPad3d(ConstantPad1d):
    _n = 3


class ZeroPad1d(_PadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    _n = 2


class ReflectionPad1d(_PadNd):
    _mode = "reflect"


class ReflectionPad2d(ReflectionPad1d):
    _n = 2


class ReplicationPad1d(_PadNd):
    _mode = "replicate"


class ReplicationPad2d(ReplicationPad1d):
    _n = 2


class CircularPad1d(_PadNd):
    _mode = "circular"


class CircularPad2d(CircularPad1d):
    _n = 2
