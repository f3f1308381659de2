"""`nn.utils.rnn`'s PackedSequence (`pack_padded_sequence`, `pad_packed_sequence`,
`pack_sequence`, `unpack_sequence`) and recurrent layers run on packed input, against torch
2.13: the packed layout, outputs and final states (each sequence's own last step, both
directions, in the caller's order), with and without `enforce_sorted`; a trace refuses."""

from __future__ import annotations

import pytest
import torch as pt
from torch.nn.utils import rnn as tr
from torch_oracle import assert_same, rand

import xjit
from xjit.nn.utils import rnn as xr

X = rand(5, 3, 4)
CASES = [([5, 3, 2], True), ([2, 5, 3], False), ([4, 4, 1], False)]


def _packed(lengths, enforce_sorted, batch_first=False, x=X):
    t = tr.pack_padded_sequence(pt.from_numpy(x.copy()), lengths, batch_first, enforce_sorted)
    a = xr.pack_padded_sequence(
        xjit.from_numpy(x.copy()), xjit.tensor(lengths), batch_first, enforce_sorted
    )
    return t, a


def _same_packed(got, want, what) -> None:
    assert_same(got.data, want.data, f"{what}.data")
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        w, g = getattr(want, field), getattr(got, field)
        assert (g is None) == (w is None), field
        if w is not None:
            assert_same(g, w, f"{what}.{field}")


@pytest.mark.parametrize("lengths,enforce_sorted", CASES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_round_trip(lengths, enforce_sorted, batch_first) -> None:
    x = X.transpose(1, 0, 2).copy() if batch_first else X
    t, a = _packed(lengths, enforce_sorted, batch_first, x)
    _same_packed(a, t, "packed")
    for total in (None, 7):
        want = tr.pad_packed_sequence(t, batch_first, -1.5, total)
        got = xr.pad_packed_sequence(a, batch_first, -1.5, total)
        assert_same(list(got), list(want), "padded")
    seqs = [rand(n, 2, seed=n) for n in (3, 1, 4)]
    t = tr.pack_sequence([pt.from_numpy(s) for s in seqs], enforce_sorted=False)
    a = xr.pack_sequence([xjit.from_numpy(s) for s in seqs], enforce_sorted=False)
    _same_packed(a, t, "pack_sequence")
    assert_same(xr.unpack_sequence(a), tr.unpack_sequence(t), "unpack_sequence")


LAYERS = [
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"bidirectional": True}),
    ("RNN", {"num_layers": 2, "nonlinearity": "relu"}),
    ("LSTM", {"batch_first": True}),
]


@pytest.mark.parametrize("name,kwargs", LAYERS, ids=[f"{n}-{k}" for n, k in LAYERS])
@pytest.mark.parametrize("lengths,enforce_sorted", CASES)
@pytest.mark.parametrize("with_hx", [False, True])
def test_recurrent_layers_on_packed_input(name, kwargs, lengths, enforce_sorted, with_hx) -> None:
    tm = getattr(pt.nn, name)(4, 6, **kwargs)
    xm = getattr(xjit.nn, name)(4, 6, **kwargs)
    xm.load_state_dict(
        {k: xjit.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()}
    )
    bf = kwargs.get("batch_first", False)
    x = X.transpose(1, 0, 2).copy() if bf else X
    t, a = _packed(lengths, enforce_sorted, bf, x)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hx_t = hx_x = None
    if with_hx:  # given in the caller's batch order
        h = rand(layers, 3, 6, seed=7)
        hx_t, hx_x = pt.from_numpy(h), xjit.from_numpy(h)
        if name == "LSTM":
            c = rand(layers, 3, 6, seed=8)
            hx_t, hx_x = (hx_t, pt.from_numpy(c)), (hx_x, xjit.from_numpy(c))
    want_out, want_h = tm(t, hx_t)
    got_out, got_h = xm(a, hx_x)
    assert isinstance(got_out, xr.PackedSequence)
    _same_packed(got_out, want_out, "output")
    assert_same(got_h, want_h, "final state")


def test_packed_input_refused_when_traced() -> None:
    m = xjit.nn.GRU(4, 6).eval()
    _, a = _packed([2, 5, 3], False)
    with pytest.raises(NotImplementedError, match="PackedSequence input while tracing"):
        xjit.jit.trace(m, (a,))


def test_pack_refusals_match_torch() -> None:
    for lengths, es, match in [
        ([2, 5, 3], True, "must be sorted in decreasing order"),
        ([2, 0, 3], False, "has to be greater than 0"),
    ]:
        with pytest.raises(RuntimeError, match=match):
            tr.pack_padded_sequence(pt.from_numpy(X), lengths, enforce_sorted=es)
        with pytest.raises(RuntimeError, match=match):
            xr.pack_padded_sequence(xjit.from_numpy(X), lengths, enforce_sorted=es)
    _, a = _packed([5, 3, 2], True)
    with pytest.raises(ValueError, match="total_length to be at least"):
        xr.pad_packed_sequence(a, total_length=3)
