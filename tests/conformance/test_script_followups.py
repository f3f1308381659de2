"""Script follow-ups (issue 10): tuple states of LSTMs and `Optional[Tuple[...]]` parameters,
the named results of sort/topk, ConvTranspose2d's `output_size`. Each model is one source
scripted by torch.jit.script (the oracle) and xjit.jit.script, and run eagerly by xjit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import check_function, load, to_torch

import xjit
from xjit.errors import FrontendError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _flat(v: Any) -> list[Any]:
    return [a for b in v for a in _flat(b)] if isinstance(v, (tuple, list)) else [v]


def _same(got: Any, want: Any, eager: Any) -> None:
    """`got` (scripted xjit) and `eager` (eager xjit) have `want`'s structure and values."""
    g, w, e = _flat(got), _flat(want), _flat(eager)
    assert len(g) == len(w) == len(e)
    for a, b, c in zip(g, w, e, strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(c.numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)


def _models(src: str, cls: str, *init: Any) -> tuple[Any, Any]:
    """The xjit and torch instances of `cls`, torch's with xjit's weights."""
    ours = load(src, xjit)[cls](*init).eval()
    theirs = load(src, real_torch)[cls](*init).eval()
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _run(ours: Any, theirs: Any, *args: Any) -> None:
    want = real_torch.jit.script(theirs)(*to_torch(args))
    _same(xjit.jit.script(ours)(*args), want, ours(*args))


# -- 1. LSTM / LSTMCell with a (h, c) state ----------------------------------------------------

X = xjit.randn(5, 3, 4)  # (L, N, H_in)
HC = (xjit.randn(2, 3, 6), xjit.randn(2, 3, 6))  # 2 layers, N = 3, H = 6

LSTM_SRC = """
from typing import Tuple
Tensor = torch.Tensor


class WordLM(torch.nn.Module):
    # word_language_model's pattern, hidden annotated (TorchScript's Tensor default refuses a tuple)
    def __init__(self, rnn_type: str):
        super().__init__()
        self.rnn = getattr(torch.nn, rnn_type)(4, 6, 2)
        self.decoder = torch.nn.Linear(6, 5)

    def forward(self, x, hidden: Tuple[Tensor, Tensor]):
        output, hidden = self.rnn(x, hidden)
        return self.decoder(output), hidden


class CellLoop(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = torch.nn.LSTMCell(4, 6)

    def forward(self, x, h, c):
        outs = []
        for t in range(x.size(0)):
            h, c = self.cell(x[t], (h, c))
            outs.append(h)
        return torch.stack(outs), c
"""


def test_lstm_with_a_tuple_state_called_from_script() -> None:
    ours, theirs = _models(LSTM_SRC, "WordLM", "LSTM")
    _run(ours, theirs, X, HC)


def test_lstm_cell_with_a_tuple_state_called_from_script() -> None:
    ours, theirs = _models(LSTM_SRC, "CellLoop")
    _run(ours, theirs, X, HC[0][0], HC[1][0])


def _pair(cls: str, kw: dict[str, Any]) -> tuple[Any, Any]:
    ours = getattr(xjit.nn, cls)(4, 6, **kw).eval()
    theirs = getattr(real_torch.nn, cls)(4, 6, **kw).eval()
    theirs.load_state_dict({k: to_torch(v) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize(
    ("kw", "args"),
    [
        ({"num_layers": 2}, (X, HC)),  # h0, c0: (layers * dirs, N, H)
        ({"bidirectional": True, "batch_first": True}, (X.transpose(0, 1), HC)),
        ({}, (X[:, 0], (HC[0][0, :1], HC[1][0, :1]))),  # unbatched: (layers, H)
    ],
)
def test_scripted_lstm_takes_a_tuple_state(kw: dict[str, Any], args: tuple[Any, ...]) -> None:
    ours, theirs = _pair("LSTM", kw)
    scripted = xjit.jit.script(ours)
    # (torch 2.13's scripted nn.LSTM has no callable forward: the oracle is torch eagerly, and
    # torch.jit.script of modules holding one above)
    want = theirs(*to_torch(args))
    _same(scripted(*args), want, ours(*args))
    # None and not None compile separately, each right
    _same(scripted(args[0]), theirs(to_torch(args[0])), ours(args[0]))
    _same(scripted(*args), want, ours(*args))


@pytest.mark.parametrize("batched", [True, False])
def test_scripted_lstm_cell_takes_a_tuple_state(batched: bool) -> None:
    ours, theirs = _pair("LSTMCell", {})
    x, h, c = xjit.randn(3, 4), xjit.randn(3, 6), xjit.randn(3, 6)
    if not batched:
        x, h, c = x[0], h[0], c[0]
    scripted = xjit.jit.script(ours)
    _same(scripted(x, (h, c)), theirs(*to_torch((x, (h, c)))), ours(x, (h, c)))
    _same(scripted(x), theirs(to_torch(x)), ours(x))


OPT_SRC = """
from typing import Optional, Tuple
Tensor = torch.Tensor


def step(x: Tensor, state: Optional[Tuple[Tensor, Tensor]] = None) -> Tensor:
    if state is None:
        return x * 2
    h, c = state
    return x + h * c


def pair_or_not(x: Tensor, state: Optional[Tuple[Tensor, Tuple[Tensor, int]]]) -> Tensor:
    if state is not None:
        a, (b, k) = state
        return x * a + b * k
    return -x


def caller(x: Tensor, y: Tensor) -> Tensor:
    return step(x) + step(x, (y, y + 1))
"""


def test_optional_tuple_parameters() -> None:
    x, y = xjit.randn(3), xjit.randn(3)
    check_function(OPT_SRC, "step", (x,), (x, (y, x)), (x, None))
    check_function(OPT_SRC, "pair_or_not", (x, None), (x, (y, (x, 3))), (x, (x, (y, -2))))
    check_function(OPT_SRC, "caller", (x, y))


def test_a_tuple_for_a_non_tuple_parameter_is_refused() -> None:
    with pytest.raises(FrontendError, match="parameter 'x' is not a tuple") as info:
        xjit.jit.script(load(OPT_SRC, xjit)["step"])((X, X))
    assert info.value.loc is not None and info.value.loc.line == 6  # the def


def test_saving_after_a_tuple_call() -> None:
    """The graphs compiled for tuples stay out of the archive: a loaded function runs the None
    case and refuses a tuple loudly."""
    import io

    x, y = xjit.randn(3), xjit.randn(3)
    scripted = xjit.jit.script(load(OPT_SRC, xjit)["step"])
    scripted(x, (y, x))
    buf = io.BytesIO()
    xjit.jit.save(scripted, buf)
    buf.seek(0)
    loaded = xjit.jit.load(buf)
    np.testing.assert_allclose(loaded(x).numpy(), x.numpy() * 2)
    with pytest.raises(xjit.jit.ArgumentError, match="state"):
        loaded(x, (y, x))


UNANNOTATED_SRC = """
class WordLM(torch.nn.Module):
    # word_language_model as written: `hidden` unannotated, (h, c) for an LSTM
    def __init__(self, rnn_type: str):
        super().__init__()
        self.encoder = torch.nn.Embedding(10, 4)
        self.rnn = getattr(torch.nn, rnn_type)(4, 6, 2)
        self.decoder = torch.nn.Linear(6, 10)

    def forward(self, input, hidden):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(output).view(-1, 10)
        return torch.nn.functional.log_softmax(decoded, dim=1), hidden
"""


@pytest.mark.parametrize("rnn_type", ["LSTM", "GRU", "RNN"])
def test_word_language_model_pattern(rnn_type: str) -> None:
    """An unannotated `hidden` is compiled per what is passed (torch.jit.script types it Tensor
    and refuses a tuple: the oracle is torch eagerly)."""
    ours, theirs = _models(UNANNOTATED_SRC, "WordLM", rnn_type)
    tokens = xjit.from_numpy(np.random.default_rng(0).integers(0, 10, (5, 3)))
    hidden = HC if rnn_type == "LSTM" else HC[0]
    scripted = xjit.jit.script(ours)
    for _ in range(2):  # the second call reuses the compiled variant
        _same(scripted(tokens, hidden), theirs(*to_torch((tokens, hidden))), ours(tokens, hidden))
    if rnn_type != "LSTM":  # typed as TorchScript types it: a tensor, also scripted by torch
        _run(ours, theirs, tokens, hidden)


# -- 2. the named results of sort / topk ------------------------------------------------------

SORT_SRC = """
def fields(x):
    r = torch.sort(x, 0)
    t = torch.topk(x, 2)
    d = x.sort(dim=1, descending=True)
    return r.values + 1, r.indices, t.values, t[1], t.indices, d.values * d.indices


def returned(x):
    return torch.topk(x, 2, 0)


def misspelt(x):
    return torch.sort(x).value
"""


def test_sort_and_topk_fields_in_script() -> None:
    x = xjit.randn(4, 3)
    check_function(SORT_SRC, "fields", (x,), (xjit.randn(5, 2),))
    check_function(SORT_SRC, "returned", (x,))  # a plain tuple, as TorchScript returns


def test_an_unknown_field_is_refused_located() -> None:
    with pytest.raises(FrontendError, match=r"'value' of a Tuple.*fields: values, indices") as e:
        xjit.jit.script(load(SORT_SRC, xjit)["misspelt"])(X)
    assert e.value.loc is not None and e.value.loc.line == 14


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: t.sort(0, descending=True),
        lambda t: t.topk(2, dim=1),
        lambda t: (t.sort().indices, t.topk(1)),  # nested: the inner one keeps its names too
    ],
)
def test_traced_sort_and_topk_results_are_named_like_eager(fn: Any) -> None:
    x = xjit.randn(4, 3)
    eager = fn(x)
    traced = xjit.jit.trace(fn, (x,))
    want = real_torch.jit.trace(fn, (to_torch(x),))(to_torch(x))
    for _ in range(2):  # the first call and the fast path afterwards
        got = traced(x)
        assert type(got) is type(eager)
        assert [type(a) for a in got] == [type(a) for a in eager]
        _same(got, want, eager)
    if isinstance(eager, tuple) and hasattr(eager, "_fields"):
        _same((got.values, got.indices), (want[0], want[1]), (eager.values, eager.indices))


# -- 3. ConvTranspose's output_size -----------------------------------------------------------

UP_SRC = """
class Up(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.up = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
        self.up1 = torch.nn.ConvTranspose1d(2, 2, 4, stride=3)

    def forward(self, x):
        a = self.up(x, output_size=[x.size(2) * 2, x.size(3) * 2])  # computed: output_padding 1
        b = self.up(x, output_size=(7, 9))  # a literal: output_padding 0
        c = self.up(x, [1, 2, 8, 9])  # (N, C, H, W): its last two entries
        d = self.up1(a[0, :, 0], output_size=[a.size(3) * 3 + 2])
        return a, b, c, d
"""


@pytest.mark.parametrize("shape", [(1, 3, 4, 5), (2, 3, 4, 5)])
def test_conv_transpose_output_size_in_script(shape: tuple[int, ...]) -> None:
    ours, theirs = _models(UP_SRC, "Up")
    x = xjit.randn(*shape)
    _run(ours, theirs, x)


MAX_SRC = """
def max_min_fields(x):
    m = x.max(1)
    lo = torch.min(x, dim=0, keepdim=True)
    return m.values + m.indices.float(), lo.indices, lo[0]
"""


def test_max_min_results_have_named_fields() -> None:
    """`x.max(dim)` / `torch.min(x, dim)` give torch.return_types tuples (`.values`,
    `.indices`) eagerly, traced and scripted, as torch's do."""
    x = xjit.tensor([[0.5, -1.0, 2.0], [3.0, 0.25, -2.0]])
    check_function(MAX_SRC, "max_min_fields", (x,), (-x,))
    eager = x.max(1)
    want = real_torch.from_numpy(x.numpy()).max(1)
    assert type(eager).__name__ == type(want).__name__ == "max"
    assert eager.indices.tolist() == want.indices.tolist()
    traced = xjit.jit.trace(lambda a: a.min(0), (x,))
    got = traced(-x)
    assert got.values.tolist() == real_torch.from_numpy(-x.numpy()).min(0).values.tolist()
