"""A GPT-style decoder as users write it (nanoGPT's shape): a `tril` causal buffer,
`masked_fill(-inf)`, qkv `split`, multi-head `view`/`transpose`, weight tying."""

from __future__ import annotations

import math

import numpy as np
import torch
from model_oracle import check_compiled, compare, twins

import xjit


def build(torch):
    nn = torch.nn
    F = torch.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self, n_embd, n_head, block_size):
            super().__init__()
            self.c_attn = nn.Linear(n_embd, 3 * n_embd)
            self.c_proj = nn.Linear(n_embd, n_embd)
            self.attn_dropout = nn.Dropout(0.1)
            self.n_head, self.n_embd = n_head, n_embd
            self.register_buffer(
                "bias",
                torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size),
            )

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self, n_embd, n_head, block_size):
            super().__init__()
            self.ln_1 = nn.LayerNorm(n_embd)
            self.attn = CausalSelfAttention(n_embd, n_head, block_size)
            self.ln_2 = nn.LayerNorm(n_embd)
            self.mlp = nn.ModuleDict(
                dict(
                    c_fc=nn.Linear(n_embd, 4 * n_embd),
                    act=nn.GELU(),
                    c_proj=nn.Linear(4 * n_embd, n_embd),
                )
            )

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            m = self.mlp
            return x + m.c_proj(m.act(m.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self, vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8):
            super().__init__()
            self.block_size = block_size
            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(vocab_size, n_embd),
                    wpe=nn.Embedding(block_size, n_embd),
                    drop=nn.Dropout(0.1),
                    h=nn.ModuleList([Block(n_embd, n_head, block_size) for _ in range(n_layer)]),
                    ln_f=nn.LayerNorm(n_embd),
                )
            )
            self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx):
            device = idx.device
            b, t = idx.size()
            assert t <= self.block_size
            pos = torch.arange(0, t, dtype=torch.long, device=device)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            return self.lm_head(x)

    return GPT


def test_gpt_decoder_matches_torch_eager_and_traced() -> None:
    t, x = twins(build)
    assert x.transformer.wte.weight is x.lm_head.weight
    idx = np.random.default_rng(0).integers(0, 11, (2, 6))
    traced = compare(t, x, idx)
    assert traced.graph.count("torch.aten.masked_fill") == 2
    other = np.random.default_rng(1).integers(0, 11, (2, 6))
    with torch.no_grad():
        want = t(torch.from_numpy(other)).numpy()
    assert np.abs(want).max() > 1e-3  # the logits are not trivially zero
    got = traced(xjit.from_numpy(other)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_gpt_decoder_scripted_and_saved(tmp_path) -> None:
    """torch.jit.script compiles this decoder (its `device = idx.device` into `arange(...,
    device=device)` included), so xjit's script must too. `b, t = idx.size()` needs the rank
    of an unannotated tensor, so the scripted module compiles per call and its save refuses."""
    t, x = twins(build)
    sets = [(np.random.default_rng(s).integers(0, 11, (2, 6)),) for s in (2, 3)]
    check_compiled(t, x, sets, tmp_path, script_save=False)
