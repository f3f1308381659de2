"""Transformer models as users write them: the PyTorch tutorial's word-level language model
(`nn.Embedding` + a `PositionalEncoding` whose `pe` buffer is filled by slice assignment +
`nn.TransformerEncoder` + a `Linear` decoder, causal mask from
`nn.Transformer.generate_square_subsequent_mask`), an encoder-decoder `nn.Transformer` subclass
(the translation tutorial's Seq2SeqTransformer, with padding masks), and the nested-tensor
fast path torch takes for batch-first padded input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from model_oracle import assert_close, compare, twins

import xjit


def positional_encoding(torch):
    nn = torch.nn

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=5000):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
            div_term = torch.exp(
                torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model)
            )
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            pe = pe.unsqueeze(0).transpose(0, 1)
            self.register_buffer("pe", pe)

        def forward(self, x):
            x = x + self.pe[: x.size(0), :]
            return self.dropout(x)

    return PositionalEncoding


def word_lm(torch, mask_argument=False, causal_hint=None):
    nn = torch.nn
    PositionalEncoding = positional_encoding(torch)

    class TransformerModel(nn.Module):
        def __init__(self, ntoken=17, d_model=8, nhead=2, d_hid=16, nlayers=2, dropout=0.2):
            super().__init__()
            self.model_type = "Transformer"
            self.pos_encoder = PositionalEncoding(d_model, dropout, max_len=64)
            encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
            self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)
            self.init_weights()

        def init_weights(self):
            initrange = 0.1
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-initrange, initrange)

        def forward(self, src):
            src_mask = nn.Transformer.generate_square_subsequent_mask(src.size(0))
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            output = self.transformer_encoder(src, src_mask, is_causal=causal_hint)
            return self.linear(output)

    class MaskArgumentModel(TransformerModel):
        """The tutorial's other form, the mask made by the caller (TorchScript does not
        script the static method call above)."""

        def forward(self, src, src_mask):
            src = self.embedding(src) * math.sqrt(self.d_model)
            src = self.pos_encoder(src)
            output = self.transformer_encoder(src, src_mask)
            return self.linear(output)

    return MaskArgumentModel if mask_argument else TransformerModel


def _build(build, **kwargs):
    with warnings.catch_warnings():  # both libraries warn that nested tensors stay off
        warnings.filterwarnings("ignore", "enable_nested_tensor is True")
        return twins(build, **kwargs)


@pytest.mark.parametrize("causal_hint", [None, True])
def test_word_language_model(causal_hint: bool | None) -> None:
    def build(torch):
        return word_lm(torch, causal_hint=causal_hint)

    t, x = _build(build)
    assert "transformer_encoder.layers.1.self_attn.in_proj_weight" in x.state_dict()
    assert "pe" not in x.state_dict() and "pos_encoder.pe" in x.state_dict()
    tokens = np.random.default_rng(0).integers(0, 17, (7, 3))  # (seq, batch)
    traced = compare(t, x, tokens)
    other = np.random.default_rng(1).integers(0, 17, (7, 3))
    with torch.no_grad():
        want = t(torch.from_numpy(other))
    assert np.abs(want.numpy()).max() > 1e-2
    assert_close(traced(xjit.from_numpy(other)), want, "traced again")
    # position i's logits do not depend on later tokens (the causal mask works)
    later = tokens.copy()
    later[4:] = (later[4:] + 1) % 17
    with torch.no_grad():
        a, b = (x(xjit.from_numpy(v)).numpy() for v in (tokens, later))
    np.testing.assert_array_equal(a[:4], b[:4])
    assert np.abs(a[4:] - b[4:]).max() > 1e-3


def test_word_language_model_mask_argument() -> None:
    def build(torch):
        return word_lm(torch, mask_argument=True)

    t, x = _build(build)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    compare(t, x, np.random.default_rng(2).integers(0, 17, (5, 2)), mask)


def test_scripting_a_module_holding_an_encoder() -> None:
    """TorchScript scripts these layers, and so does xjit (xjit/nn/transformer_scripted.py):
    a module holding a TransformerEncoder scripts and matches torch.jit.script's results
    (tests/conformance/test_script_transformer.py covers the modules one by one)."""

    def build(torch):
        nn = torch.nn

        class Encoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 1)

            def forward(self, src, mask):
                return self.encoder(src, mask)

        return Encoder

    t, x = _build(build)
    src = np.random.default_rng(3).standard_normal((5, 2, 8)).astype(np.float32)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    want = torch.jit.script(t)(torch.from_numpy(src), torch.from_numpy(mask))
    got = xjit.jit.script(x)(xjit.from_numpy(src), xjit.from_numpy(mask))
    assert_close(got, want, "scripted")


def seq2seq(torch):
    nn = torch.nn
    PositionalEncoding = positional_encoding(torch)

    class Seq2SeqTransformer(nn.Transformer):
        """The translation tutorial's model, as an nn.Transformer subclass."""

        def __init__(self, src_vocab=11, tgt_vocab=13, d_model=8, nhead=2, d_ff=16):
            super().__init__(
                d_model=d_model,
                nhead=nhead,
                num_encoder_layers=2,
                num_decoder_layers=2,
                dim_feedforward=d_ff,
                dropout=0.1,
                activation="gelu",
                norm_first=True,
            )
            self.src_tok_emb = nn.Embedding(src_vocab, d_model)
            self.tgt_tok_emb = nn.Embedding(tgt_vocab, d_model)
            self.positional_encoding = PositionalEncoding(d_model, 0.1, max_len=32)
            self.generator = nn.Linear(d_model, tgt_vocab)

        def forward(self, src, tgt, src_padding_mask, tgt_padding_mask):
            tgt_mask = self.generate_square_subsequent_mask(tgt.size(0))
            src_emb = self.positional_encoding(self.src_tok_emb(src) * math.sqrt(self.d_model))
            tgt_emb = self.positional_encoding(self.tgt_tok_emb(tgt) * math.sqrt(self.d_model))
            outs = super().forward(
                src_emb,
                tgt_emb,
                tgt_mask=tgt_mask,
                src_key_padding_mask=src_padding_mask,
                tgt_key_padding_mask=tgt_padding_mask,
                memory_key_padding_mask=src_padding_mask,
            )
            return self.generator(outs)

    return Seq2SeqTransformer


def _padding(lengths: list[int], s: int) -> np.ndarray:
    return np.arange(s)[None, :] >= np.array(lengths)[:, None]


def test_encoder_decoder_transformer_subclass() -> None:
    t, x = _build(seq2seq)
    keys = list(x.state_dict())
    assert keys[:3] == [
        "encoder.layers.0.self_attn.in_proj_weight",
        "encoder.layers.0.self_attn.in_proj_bias",
        "encoder.layers.0.self_attn.out_proj.weight",
    ]
    assert "decoder.layers.1.multihead_attn.in_proj_weight" in keys and "decoder.norm.bias" in keys
    rng = np.random.default_rng(3)
    src, tgt = rng.integers(0, 11, (6, 2)), rng.integers(0, 13, (5, 2))
    compare(t, x, src, tgt, _padding([6, 4], 6), _padding([5, 3], 5))


def batch_first_encoder(torch):
    nn = torch.nn

    class Encoder(nn.Module):
        def __init__(self, d_model=8, nhead=2):
            super().__init__()
            layer = nn.TransformerEncoderLayer(d_model, nhead, 16, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(d_model))

        def forward(self, x, padding_mask):
            return self.encoder(x, src_key_padding_mask=padding_mask)

    return Encoder


@pytest.mark.parametrize("lengths", [[5, 3, 1], [5, 2, 5]])
def test_batch_first_padding_nested_tensor_path(lengths: list[int]) -> None:
    """Under no_grad torch runs padded batch-first input as nested tensors: the padded positions
    come out 0 before the final norm (xjit does the same, as a masked_fill)."""
    t, x = twins(batch_first_encoder)
    rng = np.random.default_rng(4)
    inp = rng.standard_normal((3, 5, 8)).astype(np.float32)
    mask = _padding(lengths, 5)
    with torch.no_grad():
        want = t(torch.from_numpy(inp), torch.from_numpy(mask))
        with xjit.no_grad():
            traced = xjit.jit.trace(x, (xjit.from_numpy(inp), xjit.from_numpy(mask)))
    compare(t, x, inp, mask, trace=False)
    assert_close(traced(xjit.from_numpy(inp), xjit.from_numpy(mask)), want, "traced")
    # the padded rows hold the final norm's bias only
    bias = t.encoder.norm.bias.detach().numpy()
    row = int(np.argmin(lengths))
    padded = want.numpy()[row, lengths[row] :]
    np.testing.assert_allclose(padded, np.broadcast_to(bias, padded.shape), atol=1e-6)
    # not left-aligned padding: torch computes every position (the same traced module)
    ragged = mask.copy()
    ragged[0] = [False, True, False, False, False]
    with torch.no_grad():
        want2 = t(torch.from_numpy(inp), torch.from_numpy(ragged))
    assert_close(traced(xjit.from_numpy(inp), xjit.from_numpy(ragged)), want2, "not aligned")
    # with grad enabled torch takes the ordinary path (no zeros): so does xjit, eagerly
    want3 = t(torch.from_numpy(inp), torch.from_numpy(mask)).detach()
    assert_close(x(xjit.from_numpy(inp), xjit.from_numpy(mask)), want3, "grad enabled")


def test_decoder_layer_options() -> None:
    """TransformerDecoder alone: batch_first, a callable activation, float masks."""

    def build(torch):
        nn = torch.nn
        F = torch.nn.functional

        class Decoder(nn.Module):
            def __init__(self):
                super().__init__()
                layer = nn.TransformerDecoderLayer(
                    8, 4, 12, activation=F.silu, batch_first=True, layer_norm_eps=1e-6
                )
                self.decoder = nn.TransformerDecoder(layer, num_layers=2)

            def forward(self, tgt, memory, tgt_mask, memory_mask):
                return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask)

        return Decoder

    t, x = twins(build)
    rng = np.random.default_rng(5)
    tgt = rng.standard_normal((2, 4, 8)).astype(np.float32)
    mem = rng.standard_normal((2, 6, 8)).astype(np.float32)
    tgt_mask = np.triu(np.full((4, 4), -np.inf, np.float32), 1)
    mem_mask = rng.standard_normal((4, 6)).astype(np.float32)
    compare(t, x, tgt, mem, tgt_mask, mem_mask)


def test_generate_square_subsequent_mask() -> None:
    want = torch.nn.Transformer.generate_square_subsequent_mask(5)
    got = xjit.nn.Transformer.generate_square_subsequent_mask(5)
    assert_close(got, want, "mask")
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        xjit.nn.TransformerEncoderLayer(8, 2, activation="tanh")


@pytest.mark.parametrize("grad", [True, False])
def test_encoder_layer_fused_path_numbers(grad: bool) -> None:
    """With grad off, torch runs a batch-first encoder layer as one fused kernel: it ignores
    is_causal (only the mask counts) and applies exact gelu even for GELU('tanh'); with grad on,
    is_causal=True attends causally and the module's tanh gelu applies. xjit follows both."""

    def build(lib):
        def layer():
            act = lib.nn.GELU(approximate="tanh")
            return lib.nn.TransformerEncoderLayer(8, 2, 12, activation=act, batch_first=True)

        return layer

    t, x = twins(build)
    rng = np.random.default_rng(7)
    src = rng.standard_normal((2, 4, 8)).astype(np.float32)
    mask = rng.random((4, 4)) < 0.3  # not causal
    mask[:, 0] = False
    with torch.set_grad_enabled(grad):
        want = t(torch.from_numpy(src), torch.from_numpy(mask), is_causal=True)
    with xjit.set_grad_enabled(grad):
        got = x(xjit.from_numpy(src), xjit.from_numpy(mask), is_causal=True)
    assert_close(got, want.detach(), f"grad={grad}")
