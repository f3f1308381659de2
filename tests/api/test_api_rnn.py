"""nn.RNN / LSTM / GRU and their cells against PyTorch: the same state_dict keys and shapes,
torch's weights loaded through numpy, the same outputs and final states, eager and traced."""

from __future__ import annotations

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, rand

import xjit


def _copy(tmod: pt.nn.Module, xmod: xjit.nn.Module) -> None:
    tsd = tmod.state_dict()
    xsd = xmod.state_dict()
    assert list(xsd) == list(tsd)
    assert [tuple(v.shape) for v in xsd.values()] == [tuple(v.shape) for v in tsd.values()]
    xmod.load_state_dict({k: v.numpy() for k, v in tsd.items()})


def _both(kind: str, *args, **kwargs):
    pt.manual_seed(0)
    t = getattr(pt.nn, kind)(*args, **kwargs).eval()
    x = getattr(xjit.nn, kind)(*args, **kwargs).eval()
    _copy(t, x)
    return t, x


def _x(a):
    return xjit.from_numpy(a.copy())


def _t(a):
    return pt.from_numpy(a.copy())


CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "dropout": 0.3},
    {"batch_first": True},
    {"bias": False},
]


def _state(kind: str, hx):
    return tuple(hx) if kind == "LSTM" else hx


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_recurrent_layer(kind: str, cfg: dict) -> None:
    t, x = _both(kind, 4, 6, **cfg)
    seq = rand(2, 5, 4, seed=1) if cfg.get("batch_first") else rand(5, 2, 4, seed=1)
    want = t(_t(seq))
    assert_same(x(_x(seq)), want, "eager")
    traced = xjit.jit.trace(x, (_x(seq),))
    assert_same(traced(_x(seq)), want, "traced")
    other = rand(*seq.shape, seed=2)  # the trace generalises to other values
    assert_same(traced(_x(other)), t(_t(other)), "traced, other input")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layer_with_initial_state(kind: str) -> None:
    t, x = _both(kind, 3, 5, num_layers=2, bidirectional=True)
    seq = rand(4, 2, 3, seed=3)
    h0, c0 = rand(4, 2, 5, seed=4), rand(4, 2, 5, seed=5)
    if kind == "LSTM":
        want = t(_t(seq), (_t(h0), _t(c0)))
        got = x(_x(seq), (_x(h0), _x(c0)))

        class Wrap(xjit.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.rnn = x

            def forward(self, s, h, c):
                out, (hn, cn) = self.rnn(s, (h, c))
                return out, hn, cn

        traced = xjit.jit.trace(Wrap(), (_x(seq), _x(h0), _x(c0)))
        out, hn, cn = traced(_x(seq), _x(h0), _x(c0))
        assert_same([out, hn, cn], [want[0], *want[1]], "traced")
    else:
        want = t(_t(seq), _t(h0))
        got = x(_x(seq), _x(h0))
        traced = xjit.jit.trace(x, (_x(seq), _x(h0)))
        assert_same(traced(_x(seq), _x(h0)), want, "traced")
    assert_same(got, want, "eager")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(kind: str) -> None:
    t, x = _both(kind, 3, 4, bidirectional=True)
    seq = rand(5, 3, seed=6)
    assert_same(x(_x(seq)), t(_t(seq)))


def test_rnn_positional_arguments_and_repr() -> None:
    t, x = _both("RNN", 3, 4, 2, "relu", False, True)
    assert repr(x) == repr(t)
    assert repr(xjit.nn.LSTM(3, 4, num_layers=2, bidirectional=True)) == repr(
        pt.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    )
    seq = rand(2, 5, 3)
    assert_same(x(_x(seq)), t(_t(seq)))


def test_training_dropout_between_layers_is_refused() -> None:
    m = xjit.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    with pytest.raises(NotImplementedError, match="eval"):
        m(xjit.rand(2, 1, 3))
    m.eval()(xjit.rand(2, 1, 3))  # eval: no dropout


def test_wrong_initial_state_shape() -> None:
    m = xjit.nn.GRU(3, 4)
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        m(xjit.rand(2, 1, 3), xjit.rand(2, 1, 4))


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells(kind: str, bias: bool) -> None:
    t, x = _both(kind, 4, 3, bias=bias)
    inp, h, c = rand(2, 4, seed=7), rand(2, 3, seed=8), rand(2, 3, seed=9)
    state_t = (_t(h), _t(c)) if kind == "LSTMCell" else _t(h)
    state_x = (_x(h), _x(c)) if kind == "LSTMCell" else _x(h)
    assert_same(x(_x(inp), state_x), t(_t(inp), state_t), "with state")
    assert_same(x(_x(inp)), t(_t(inp)), "zero state")
    assert_same(x(_x(inp[0])), t(_t(inp[0])), "unbatched")
    traced = xjit.jit.trace(x, (_x(inp),))
    assert_same(traced(_x(inp)), t(_t(inp)), "traced")


def test_relu_cell_and_sequence_loop_traced() -> None:
    t, x = _both("RNNCell", 4, 3, nonlinearity="relu")

    def run(T, cell, seq):
        h = T.zeros(seq.shape[1], 3)
        outs = []
        for step in seq.unbind(0):
            h = cell(step, h)
            outs.append(h)
        return T.stack(outs)

    seq = rand(6, 2, 4)
    want = run(pt, t, _t(seq))
    traced = xjit.jit.trace(lambda s: run(xjit, x, s), (_x(seq),))
    assert_same(traced(_x(seq)), want)


def test_parameters_are_initialised_in_torch_range() -> None:
    m = xjit.nn.LSTM(3, 16, num_layers=2)
    bound = 1 / np.sqrt(16)
    for name, p in m.named_parameters():
        a = p.numpy()
        assert a.dtype == np.float32 and np.abs(a).max() <= bound, name
        assert a.std() > bound / 4, name  # not all zeros
