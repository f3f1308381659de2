"""Scripting xjit.nn's attention and transformer modules (nn.MultiheadAttention, nn.Transformer
EncoderLayer/Encoder/DecoderLayer/Decoder, nn.Transformer) as torch.jit.script scripts
PyTorch's: the same weights (copied through state_dict) give torch.jit.script's results, with
and without masks (bool and float attention masks, key padding masks, is_causal), batch_first,
norm_first, activation strings and callables, unbatched inputs; the scripted module saves and
loads, and its graph verifies. Also the tutorial's word-level language model (Embedding +
PositionalEncoding buffer + TransformerEncoder + Linear, causal mask from
nn.Transformer.generate_square_subsequent_mask), one source run by both.

torch's oracle runs with autograd on (its default), so it takes its ordinary path, not the
fused fast paths it takes only with autograd off (xjit/nn/transformer_scripted.py)."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest
import torch as real_torch
from ir_programs import parse
from script_oracle import load

import xjit

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
]

RTOL, ATOL = 1e-4, 1e-5
E, HEADS, FF = 8, 2, 16
RNG = np.random.default_rng(0)


def _f32(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _pair(cls: str, *args: Any, **kw: Any) -> tuple[Any, Any]:
    """xjit's and torch's module, eval mode, xjit's holding torch's random weights."""
    real_torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "enable_nested_tensor is True")
        theirs = _build(real_torch, cls, *args, **kw).eval()
        ours = _build(xjit, cls, *args, **kw).eval()
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: v.numpy() for k, v in sd.items()})
    return ours, theirs


def _build(torch: Any, cls: str, *args: Any, **kw: Any) -> Any:
    nn = torch.nn
    if cls in ("TransformerEncoder", "TransformerDecoder"):  # args: (with a final norm,)
        norm = nn.LayerNorm(E) if args and args[0] else None
        layer = getattr(nn, cls + "Layer")(E, HEADS, FF, **kw)
        return getattr(nn, cls)(layer, 2, norm)
    if cls == "TransformerEncoderLayer" and kw.get("activation") == "module":
        kw = {**kw, "activation": nn.GELU()}
    return getattr(nn, cls)(*args, **kw)


def _to_torch(v: Any) -> Any:
    return real_torch.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v


def _to_xjit(v: Any) -> Any:
    return xjit.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v


def _flat(v: Any) -> list[Any]:
    return [a for b in v for a in _flat(b)] if isinstance(v, (tuple, list)) else [v]


def _assert_close(got: Any, want: Any, what: str) -> None:
    g, w = _flat(got), _flat(want)
    assert len(g) == len(w), what
    for a, b in zip(g, w, strict=True):
        if b is None:
            assert a is None, f"{what}: {a!r}, expected None"
            continue
        b = b.detach().numpy()
        assert a.numpy().shape == b.shape, f"{what}: {a.numpy().shape} vs {b.shape}"
        np.testing.assert_allclose(a.numpy(), b, rtol=RTOL, atol=ATOL, err_msg=what)


def _check(
    ours: Any,
    theirs: Any,
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]],
    torch_scripts: bool = True,
) -> Any:
    """Script both, compare on every (args, kwargs) call, then save/load ours and compare
    again (the first two calls); returns our scripted module. `torch_scripts=False`: torch 2.13 does not script this
    configuration (its own forward does not compile), so torch's eager module is the oracle."""
    st = real_torch.jit.script(theirs) if torch_scripts else theirs
    sx = xjit.jit.script(ours)
    parse(sx.graph)  # verifies
    wants = []
    for args, kw in calls:
        want = st(*map(_to_torch, args), **{k: _to_torch(v) for k, v in kw.items()})
        assert max(float(w.detach().abs().max()) for w in _flat(want) if w is not None) > 1e-3
        got = sx(*map(_to_xjit, args), **{k: _to_xjit(v) for k, v in kw.items()})
        _assert_close(got, want, f"scripted {sorted(kw)}")
        wants.append(want)
    buf = io.BytesIO()
    xjit.jit.save(sx, buf)
    buf.seek(0)
    loaded = xjit.jit.load(buf)
    for (args, kw), want in list(zip(calls, wants, strict=True))[:2]:  # (compile time)
        xargs = (*map(_to_xjit, args),)
        xkw = {k: _to_xjit(v) for k, v in kw.items()}
        if kw.get("average_attn_weights", True) is False:  # compiled per value, not saved
            with pytest.raises(xjit.errors.ScriptError, match="compiled for average_attn"):
                loaded(*xargs, **xkw)
            continue
        _assert_close(loaded(*xargs, **xkw), want, f"loaded {sorted(kw)}")
    return sx


def _causal(n: int) -> np.ndarray:
    return real_torch.nn.Transformer.generate_square_subsequent_mask(n).numpy()


def _padding(lengths: list[int], s: int) -> np.ndarray:
    return np.arange(s)[None, :] >= np.array(lengths)[:, None]


L, S, N = 5, 6, 3
Q, KV = _f32(L, N, E), _f32(S, N, E)
BOOL_MASK = np.triu(np.ones((L, S), dtype=bool), 1)
FLOAT_MASK = _f32(L, S)
KPM = _padding([6, 4, 5], S)
QB, KVB = _f32(N, L, E), _f32(N, S, E)  # batch_first


@pytest.mark.parametrize(
    ("kw", "calls"),
    [
        ({}, [((Q, KV, KV), {}), ((Q, Q, Q), {"attn_mask": BOOL_MASK[:, :L]})]),
        ({}, [((Q, KV, KV), {"key_padding_mask": KPM, "attn_mask": FLOAT_MASK})]),
        ({}, [((Q[:, 0], KV[:, 0], KV[:, 0]), {"attn_mask": BOOL_MASK})]),  # unbatched
        (
            {"batch_first": True},
            [((QB, KVB, KVB), {"key_padding_mask": KPM, "attn_mask": BOOL_MASK})],
        ),
        # (torch.jit.script fails on torch's own forward for bias=False: `in_proj_bias.dtype`)
        ({"bias": False}, [((Q, KV, KV), {"average_attn_weights": False})]),
        ({"kdim": 4, "vdim": 6}, [((Q, _f32(S, N, 4), _f32(S, N, 6)), {})]),
    ],
)
def test_multihead_attention(kw: dict[str, Any], calls: list[Any]) -> None:
    ours, theirs = _pair("MultiheadAttention", E, HEADS, **kw)
    _check(ours, theirs, calls, torch_scripts=kw.get("bias", True))


def test_multihead_attention_need_weights_false() -> None:
    """need_weights=False returns (output, None): compiled per value (a second graph, held in
    memory); the saved generic graph is the default's and says so when called otherwise."""
    ours, theirs = _pair("MultiheadAttention", E, HEADS)
    st, sx = real_torch.jit.script(theirs), xjit.jit.script(ours)
    for mask in (None, BOOL_MASK[:, :L]):
        for causal in (False, True) if mask is not None else (False,):
            kw = {"need_weights": False, "attn_mask": mask, "is_causal": causal}
            want = st(*map(_to_torch, (Q, Q, Q)), **{k: _to_torch(v) for k, v in kw.items()})
            got = sx(*map(_to_xjit, (Q, Q, Q)), **{k: _to_xjit(v) for k, v in kw.items()})
            assert want[1] is None
            _assert_close(got, want, f"need_weights=False {kw}")
    buf = io.BytesIO()
    xjit.jit.save(sx, buf)
    buf.seek(0)
    loaded = xjit.jit.load(buf)
    with pytest.raises(xjit.errors.ScriptError, match="compiled for need_weights=True, got False"):
        loaded(*map(_to_xjit, (Q, Q, Q)), need_weights=False)


def test_multihead_attention_is_causal_needs_a_mask() -> None:
    ours, theirs = _pair("MultiheadAttention", E, HEADS)
    sx = xjit.jit.script(ours)
    with pytest.raises(xjit.errors.ScriptError, match="Need attn_mask if specifying"):
        sx(*map(_to_xjit, (Q, Q, Q)), is_causal=True)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"key_padding_mask": KPM.T.copy()}, "expecting key_padding_mask shape"),
        ({"attn_mask": BOOL_MASK[:1]}, "The shape of the 2D attn_mask is"),
        ({"attn_mask": FLOAT_MASK[None]}, "The shape of the 3D attn_mask is"),
    ],
)
def test_multihead_attention_checks_shapes(kw: dict[str, Any], match: str) -> None:
    """torch's argument checks raise at run time (a wrong-shaped mask must not broadcast or
    reshape silently), as torch's eager module does. (torch.jit.script skips the key padding
    mask's check and reshapes a transposed mask silently: xjit keeps the check.)"""
    ours, theirs = _pair("MultiheadAttention", E, HEADS)
    sx = xjit.jit.script(ours)
    with pytest.raises((AssertionError, RuntimeError)):
        theirs(*map(_to_torch, (Q, KV, KV)), **{k: _to_torch(v) for k, v in kw.items()})
    with pytest.raises(xjit.errors.ScriptError, match=match):
        sx(*map(_to_xjit, (Q, KV, KV)), **{k: _to_xjit(v) for k, v in kw.items()})


SRC, TGT = _f32(L, N, E), _f32(4, N, E)
SRC_KPM = _padding([5, 3, 4], L)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"norm_first": True, "activation": "gelu"},
        {"batch_first": True, "activation": "module"},
        {"dropout": 0.3, "bias": False, "layer_norm_eps": 1e-3},
    ],
)
def test_encoder_layer(kw: dict[str, Any]) -> None:
    ours, theirs = _pair("TransformerEncoderLayer", E, HEADS, FF, **kw)
    src = SRC.transpose(1, 0, 2).copy() if kw.get("batch_first") else SRC
    _check(
        ours,
        theirs,
        [
            ((src,), {}),
            ((src,), {"src_mask": _causal(L), "is_causal": True}),
            ((src,), {"src_key_padding_mask": SRC_KPM}),
            ((src,), {"src_mask": BOOL_MASK[:, :L], "src_key_padding_mask": SRC_KPM}),
            ((SRC[:, 0],), {"src_mask": _causal(L)}),  # unbatched
        ],
        torch_scripts=kw.get("bias", True),  # (torch does not script bias=False, as above)
    )


@pytest.mark.parametrize("kw", [{}, {"norm_first": True, "batch_first": True}])
def test_encoder(kw: dict[str, Any]) -> None:
    ours, theirs = _pair("TransformerEncoder", not kw, **kw)
    src = SRC.transpose(1, 0, 2).copy() if kw.get("batch_first") else SRC
    _check(
        ours,
        theirs,
        [
            ((src,), {}),
            ((src,), {"mask": _causal(L)}),
            ((src,), {"mask": _causal(L), "is_causal": True}),
            ((src,), {"src_key_padding_mask": SRC_KPM}),
        ],
    )


@pytest.mark.parametrize("kw", [{}, {"norm_first": True, "activation": "gelu"}])
def test_decoder_layer(kw: dict[str, Any]) -> None:
    ours, theirs = _pair("TransformerDecoderLayer", E, HEADS, FF, **kw)
    _check(
        ours,
        theirs,
        [
            ((TGT, SRC), {}),
            ((TGT, SRC), {"tgt_mask": _causal(4), "tgt_is_causal": True}),
            ((TGT, SRC), {"tgt_mask": _causal(4), "memory_key_padding_mask": SRC_KPM}),
            ((TGT, SRC), {"tgt_key_padding_mask": _padding([4, 2, 3], 4)}),
        ],
    )


def test_decoder() -> None:
    ours, theirs = _pair("TransformerDecoder", True, norm_first=True, batch_first=True)
    tgt, mem = _f32(N, 4, E), _f32(N, L, E)
    _check(
        ours,
        theirs,
        [
            ((tgt, mem), {}),
            ((tgt, mem), {"tgt_mask": _causal(4), "memory_key_padding_mask": SRC_KPM}),
        ],
    )


def test_transformer() -> None:
    kw = {"num_encoder_layers": 2, "num_decoder_layers": 1, "dim_feedforward": FF}
    ours, theirs = _pair("Transformer", E, HEADS, **kw)
    _check(
        ours,
        theirs,
        [
            ((SRC, TGT), {}),
            (
                (SRC, TGT),
                {
                    "tgt_mask": _causal(4),
                    "src_key_padding_mask": SRC_KPM,
                    "memory_key_padding_mask": SRC_KPM,
                },
            ),
        ],
    )
    sx = xjit.jit.script(ours)
    with pytest.raises(xjit.errors.ScriptError, match="the batch number of src and tgt"):
        sx(xjit.from_numpy(SRC), xjit.from_numpy(TGT[:, :2].copy()))


WORD_LM = """
import math
from typing import Optional


class PositionalEncoding(torch.nn.Module):
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 64):
        super().__init__()
        self.dropout = torch.nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[: x.size(0), :]
        return self.dropout(x)


class TransformerModel(torch.nn.Module):
    def __init__(self, ntoken: int = 17, d_model: int = 8, nhead: int = 2, d_hid: int = 16,
                 nlayers: int = 2, dropout: float = 0.2):
        super().__init__()
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        layer = torch.nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = torch.nn.TransformerEncoder(layer, nlayers)
        self.embedding = torch.nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = torch.nn.Linear(d_model, ntoken)

    def forward(self, src, src_mask: Optional[torch.Tensor] = None):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, src_mask)
        return self.linear(output)
"""


def test_word_language_model() -> None:
    real_torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "enable_nested_tensor is True")
        theirs = load(WORD_LM, real_torch)["TransformerModel"]().eval()
        ours = load(WORD_LM, xjit)["TransformerModel"]().eval()
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: v.numpy() for k, v in sd.items()})
    tokens = RNG.integers(0, 17, (7, 3))
    sx = _check(ours, theirs, [((tokens,), {}), ((tokens, _causal(7)), {})])
    # the causal mask works: position i's logits do not depend on later tokens
    later = tokens.copy()
    later[4:] = (later[4:] + 1) % 17
    a, b = (sx(xjit.from_numpy(t), xjit.from_numpy(_causal(7))).numpy() for t in (tokens, later))
    np.testing.assert_array_equal(a[:4], b[:4])
    assert np.abs(a[4:] - b[4:]).max() > 1e-3


def test_other_methods_are_refused_by_name() -> None:
    src = """
class Calls(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = torch.nn.MultiheadAttention(4, 2)

    def forward(self, x):
        return self.attn._reset_parameters()
"""
    m = load(src, xjit)["Calls"]()
    with pytest.raises(xjit.errors.FrontendError, match=r"nn.MultiheadAttention methods other"):
        xjit.jit.script(m)


def test_subclass_keeping_forward_and_training_mode() -> None:
    """A subclass that keeps the layer's forward scripts through it; in training mode (dropout
    active) the scripted layer fails loudly, as eager xjit does (inference only)."""

    class Layer(xjit.nn.TransformerEncoderLayer):
        pass

    ours = Layer(E, HEADS, FF).eval()
    theirs = real_torch.nn.TransformerEncoderLayer(E, HEADS, FF).eval()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    want = real_torch.jit.script(theirs)(real_torch.from_numpy(SRC))
    sx = xjit.jit.script(ours)
    _assert_close(sx(xjit.from_numpy(SRC)), want, "subclass")
    sx.train()
    with pytest.raises(Exception, match="dropout in training mode is not supported"):
        sx(xjit.from_numpy(SRC))
