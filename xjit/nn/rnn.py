"""Recurrent layers: `RNN`, `LSTM`, `GRU` and their cells, with torch's constructor arguments,
parameter names (`weight_ih_l0`, `bias_hh_l1_reverse`, ...), shapes, gate order (i, f, g, o for
LSTM; r, z, n for GRU) and initialisation, so `load_state_dict` takes a torch model's weights.

Written over registry ops: eager runs them, and tracing records them with the time loop
unrolled (the sequence length is fixed by the example input, as in a torch trace). The input
projection of a whole layer is one `linear` over all time steps; only the recurrent product
is per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from xjit import _creation
from xjit._device import check_device
from xjit._dispatch import call, current_recorder
from xjit._tensor import Tensor
from xjit.nn import functional as F
from xjit.nn.module import Module, Parameter
from xjit.nn.utils.rnn import PackedSequence, time_major

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _uniform(shape: tuple[int, ...], bound: float) -> Parameter:
    return Parameter(_creation.generator().uniform(-bound, bound, shape).astype("float32"))


def _cell_step(mode: str, xw: Any, h: Any, c: Any, w_hh: Any, b_hh: Any) -> tuple[Any, Any]:
    """One time step from the input's projection `xw` (x Wᵢₕᵀ + bᵢₕ) and the state (h, c)."""
    hw = F.linear(h, w_hh, b_hh)
    if mode == "LSTM":
        i, f, g, o = (xw + hw).chunk(4, -1)
        c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
        return F.sigmoid(o) * F.tanh(c), c
    if mode == "GRU":
        xr, xz, xn = xw.chunk(3, -1)
        hr, hz, hn = hw.chunk(3, -1)
        r = F.sigmoid(xr + hr)
        z = F.sigmoid(xz + hz)
        n = F.tanh(xn + r * hn)
        return (1 - z) * n + z * h, c
    pre = xw + hw
    return (F.tanh(pre) if mode == "RNN_TANH" else F.relu(pre)), c


class RNNBase(Module):
    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        if proj_size:
            raise NotImplementedError("LSTM(proj_size=...) is not supported")
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError("hidden_size and num_layers must be greater than 0")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate = _GATES[mode] * hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        dirs = 2 if bidirectional else 1
        # torch's registration order: per layer, per direction: w_ih, w_hh, b_ih, b_hh.
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, f"weight_ih{sfx}", _uniform((gate, in_size), bound))
                setattr(self, f"weight_hh{sfx}", _uniform((gate, hidden_size), bound))
                if bias:
                    setattr(self, f"bias_ih{sfx}", _uniform((gate,), bound))
                    setattr(self, f"bias_hh{sfx}", _uniform((gate,), bound))
        if dtype is not None:
            self.to(dtype)

    def flatten_parameters(self) -> None:
        pass  # a cuDNN layout call: nothing to do on the CPU

    def _weights(self, layer: int, d: int) -> tuple[Any, Any, Any, Any]:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = lambda n: getattr(self, n + sfx) if self.bias or n.startswith("w") else None  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _initial(self, x: Tensor, hx: Any, n: int) -> Any:
        shape = (self.num_layers * (2 if self.bidirectional else 1), n, self.hidden_size)
        if hx is None:
            return _creation.zeros(*shape, dtype=x.dtype)
        if tuple(hx.shape) != shape:
            raise RuntimeError(f"Expected hidden size {list(shape)}, got {list(hx.shape)}")
        return hx

    def _run(
        self, x: Tensor, h0: Any, c0: Any, lengths: list[int] | None = None
    ) -> tuple[Any, Any, Any]:
        """x: (L, N, H_in) → output (L, N, D·H), h_n and c_n (D·num_layers, N, H). With
        `lengths` (a packed input), sequence i's state stops changing after its step
        lengths[i] - 1 (forward) and starts changing at it (reverse): each direction's final
        state is its own last step's."""
        if self.dropout > 0 and self.training and self.num_layers > 1:
            raise NotImplementedError(
                "RNN dropout in training mode is not supported (xjit is inference only): "
                "call .eval()"
            )
        dirs = 2 if self.bidirectional else 1
        steps = x.shape[0]
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh = self._weights(layer, d)
                xw = F.linear(x, w_ih, b_ih)  # every time step at once
                k = layer * dirs + d
                h, c = h0[k], (c0[k] if c0 is not None else None)
                seq: list[Any] = [None] * steps
                for t in reversed(range(steps)) if d else range(steps):
                    h1, c1 = _cell_step(self.mode, xw[t], h, c, w_hh, b_hh)
                    if lengths is not None and min(lengths) <= t:
                        live = Tensor(np.array([[n > t] for n in lengths]))
                        h1 = h1.where(live, h)
                        c1 = c1 if c is None else c1.where(live, c)
                    h, c = h1, c1
                    seq[t] = h
                hs.append(h)
                cs.append(c)
                outs.append(_creation_stack(seq))
            x = outs[0] if dirs == 1 else _cat(outs, 2)
        return x, _creation_stack(hs), (_creation_stack(cs) if c0 is not None else None)

    def forward(self, input: Any, hx: Any = None) -> Any:
        lstm = self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if input.dim() not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D instead"
            )
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        h0, c0 = (hx if hx is not None else (None, None)) if lstm else (hx, None)
        if not batched:
            h0 = None if h0 is None else h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        n = x.shape[1]
        h0 = self._initial(x, h0, n)
        c0 = self._initial(x, c0, n) if lstm else None
        out, h_n, c_n = self._run(x, h0, c0)
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return (out, (h_n, c_n)) if lstm else (out, h_n)

    def _forward_packed(self, packed: PackedSequence, hx: Any) -> Any:
        """A PackedSequence input (eager only): run on its padded form, each sequence masked
        past its length; the output packed the same way, the states in the caller's order."""
        if current_recorder() is not None:
            raise NotImplementedError(
                f"{type(self).__name__} with a PackedSequence input while tracing: its lengths "
                "are values the trace would freeze. Trace with a padded batch instead"
            )
        lstm = self.mode == "LSTM"
        sizes = [int(b) for b in packed.batch_sizes.numpy()]
        x = time_major(packed, len(sizes), 0.0)
        h0, c0 = (hx if hx is not None else (None, None)) if lstm else (hx, None)
        order = packed.sorted_indices
        h0 = self._initial(x, h0, x.shape[1])
        c0 = self._initial(x, c0, x.shape[1]) if lstm else None
        if order is not None:  # hx is in the caller's order, the packed batch in length order
            h0 = h0.index_select(1, order)
            c0 = None if c0 is None else c0.index_select(1, order)
        out, h_n, c_n = self._run(x, h0, c0, packed.lengths())
        data = _cat([out[t, :b] for t, b in enumerate(sizes)], 0)
        back = packed.unsorted_indices
        if back is not None:
            h_n = h_n.index_select(1, back)
            c_n = None if c_n is None else c_n.index_select(1, back)
        result = packed._replace(data=data)
        return (result, (h_n, c_n)) if lstm else (result, h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


def _creation_stack(xs: list[Any]) -> Any:
    return call("stack", xs, 0)


def _cat(xs: list[Any], dim: int) -> Any:
    return call("cat", xs, dim)


class RNN(RNNBase):
    def __init__(self, input_size: int, hidden_size: int, *args: Any, **kwargs: Any) -> None:
        # torch's positional order: num_layers, nonlinearity, bias, batch_first, dropout, ...
        names = ["num_layers", "nonlinearity", "bias", "batch_first", "dropout", "bidirectional"]
        kwargs.update(zip(names, args))
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, **kwargs)


class LSTM(RNNBase):
    def __init__(self, input_size: int, hidden_size: int, *args: Any, **kwargs: Any) -> None:
        names = ["num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size"]
        kwargs.update(zip(names, args))
        super().__init__("LSTM", input_size, hidden_size, **kwargs)


class GRU(RNNBase):
    def __init__(self, input_size: int, hidden_size: int, *args: Any, **kwargs: Any) -> None:
        names = ["num_layers", "bias", "batch_first", "dropout", "bidirectional"]
        kwargs.update(zip(names, args))
        super().__init__("GRU", input_size, hidden_size, **kwargs)


# -- cells ---------------------------------------------------------------------------------------


class RNNCellBase(Module):
    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate = _GATES[mode] * hidden_size
        bound = 1.0 / math.sqrt(hidden_size)
        self.weight_ih = _uniform((gate, input_size), bound)
        self.weight_hh = _uniform((gate, hidden_size), bound)
        if bias:
            self.bias_ih = _uniform((gate,), bound)
            self.bias_hh = _uniform((gate,), bound)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        if dtype is not None:
            self.to(dtype)

    def _state(self, input: Tensor, h: Any) -> Any:
        """The state for `input` as given (1-D unbatched or 2-D), batched; zeros if None."""
        if h is not None:
            return h if input.dim() == 2 else h.unsqueeze(0)
        n = input.shape[0] if input.dim() == 2 else 1
        return _creation.zeros(n, self.hidden_size, dtype=input.dtype)

    def _step(self, input: Tensor, h: Any, c: Any) -> tuple[Any, Any]:
        xw = F.linear(input, self.weight_ih, self.bias_ih)
        return _cell_step(self.mode, xw, h, c, self.weight_hh, self.bias_hh)

    def _check(self, input: Tensor) -> Tensor:
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead"
            )
        return input if input.dim() == 2 else input.unsqueeze(0)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        **kw: Any,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, bias, **kw)

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        x = self._check(input)
        h, _ = self._step(x, self._state(input, hx), None)
        return h if input.dim() == 2 else h.squeeze(0)


class GRUCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, **kw: Any) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, **kw)

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        x = self._check(input)
        h, _ = self._step(x, self._state(input, hx), None)
        return h if input.dim() == 2 else h.squeeze(0)


class LSTMCell(RNNCellBase):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, **kw: Any) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, **kw)

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        x = self._check(input)
        h0, c0 = (None, None) if hx is None else hx
        h, c = self._step(x, self._state(input, h0), self._state(input, c0))
        return (h, c) if input.dim() == 2 else (h.squeeze(0), c.squeeze(0))
