"""karpathy/minGPT's model as its model.py writes it: `NewGELU` with `math.sqrt(2.0 / math.pi)`,
`CausalSelfAttention` with `register_buffer("bias", torch.tril(...).view(1, 1, T, T))` and
`masked_fill(... == 0, float('-inf'))`, `Block` with its `mlpf` lambda over an `nn.ModuleDict`,
`GPT` configured by a `CfgNode` (minGPT's utils), `_init_weights` applied and the scaled
`c_proj.weight` init, `forward(idx, targets=None)` returning `(logits, loss)` with
`F.cross_entropy(..., ignore_index=-1)`, and the `@torch.no_grad()` `generate` loop (top-k
masking by `logits[logits < v[:, [-1]]] = -float('Inf')`, greedy `topk`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from model_oracle import assert_close, check_compiled, twins

import xjit


class CfgNode:
    """a lightweight configuration class inspired by yacs (minGPT's mingpt/utils.py)"""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def merge_from_dict(self, d):
        self.__dict__.update(d)


def mingpt(torch):
    nn = torch.nn
    F = torch.nn.functional

    class NewGELU(nn.Module):
        """
        Implementation of the GELU activation function currently in Google BERT repo (identical
        to OpenAI GPT). Reference: Gaussian Error Linear Units (GELU) paper.
        """

        def forward(self, x):
            return (
                0.5
                * x
                * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
            )

    class CausalSelfAttention(nn.Module):
        """
        A vanilla multi-head masked self-attention layer with a projection at the end.
        """

        def __init__(self, config):
            super().__init__()
            assert config.n_embd % config.n_head == 0
            # key, query, value projections for all heads, but in a batch
            self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
            # output projection
            self.c_proj = nn.Linear(config.n_embd, config.n_embd)
            # regularization
            self.attn_dropout = nn.Dropout(config.attn_pdrop)
            self.resid_dropout = nn.Dropout(config.resid_pdrop)
            # causal mask to ensure that attention is only applied to the left in the input sequence
            self.register_buffer(
                "bias",
                torch.tril(torch.ones(config.block_size, config.block_size)).view(
                    1, 1, config.block_size, config.block_size
                ),
            )
            self.n_head = config.n_head
            self.n_embd = config.n_embd

        def forward(self, x):
            B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)

            # calculate query, key, values for all heads in batch and move head forward
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)

            # causal self-attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
            # re-assemble all head outputs side by side
            y = y.transpose(1, 2).contiguous().view(B, T, C)

            # output projection
            y = self.resid_dropout(self.c_proj(y))
            return y

    class Block(nn.Module):
        """an unassuming Transformer block"""

        def __init__(self, config):
            super().__init__()
            self.ln_1 = nn.LayerNorm(config.n_embd)
            self.attn = CausalSelfAttention(config)
            self.ln_2 = nn.LayerNorm(config.n_embd)
            self.mlp = nn.ModuleDict(
                dict(
                    c_fc=nn.Linear(config.n_embd, 4 * config.n_embd),
                    c_proj=nn.Linear(4 * config.n_embd, config.n_embd),
                    act=NewGELU(),
                    dropout=nn.Dropout(config.resid_pdrop),
                )
            )
            m = self.mlp
            self.mlpf = lambda x: m.dropout(m.c_proj(m.act(m.c_fc(x))))  # MLP forward

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlpf(self.ln_2(x))
            return x

    class GPT(nn.Module):
        """GPT Language Model"""

        @staticmethod
        def get_default_config():
            C = CfgNode()
            # either model_type or (n_layer, n_head, n_embd) must be given in the config
            C.model_type = "gpt"
            C.n_layer = None
            C.n_head = None
            C.n_embd = None
            # these options must be filled in externally
            C.vocab_size = None
            C.block_size = None
            # dropout hyperparameters
            C.embd_pdrop = 0.1
            C.resid_pdrop = 0.1
            C.attn_pdrop = 0.1
            return C

        def __init__(self, config):
            super().__init__()
            assert config.vocab_size is not None
            assert config.block_size is not None
            self.block_size = config.block_size

            type_given = config.model_type is not None
            params_given = all(
                [config.n_layer is not None, config.n_head is not None, config.n_embd is not None]
            )
            assert type_given ^ params_given  # exactly one of these (XOR)
            if type_given:
                # translate from model_type to detailed configuration
                config.merge_from_dict(
                    {
                        # names follow the huggingface naming conventions
                        "gpt-nano": dict(n_layer=3, n_head=3, n_embd=48),
                        # and a smaller one, for tests
                        "gpt-pico": dict(n_layer=2, n_head=2, n_embd=8),
                    }[config.model_type]
                )

            self.transformer = nn.ModuleDict(
                dict(
                    wte=nn.Embedding(config.vocab_size, config.n_embd),
                    wpe=nn.Embedding(config.block_size, config.n_embd),
                    drop=nn.Dropout(config.embd_pdrop),
                    h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                    ln_f=nn.LayerNorm(config.n_embd),
                )
            )
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

            # init all weights, and apply a special scaled init to the residual projections,
            # per GPT-2 paper
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

            # report number of parameters (note we don't count the decoder parameters in lm_head)
            self.n_params = sum(p.numel() for p in self.transformer.parameters())

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            elif isinstance(module, nn.LayerNorm):
                torch.nn.init.zeros_(module.bias)
                torch.nn.init.ones_(module.weight)

        def forward(self, idx, targets=None):
            device = idx.device
            b, t = idx.size()
            assert t <= self.block_size, (
                f"Cannot forward sequence of length {t}, block size is only {self.block_size}"
            )
            pos = torch.arange(0, t, dtype=torch.long, device=device).unsqueeze(0)  # shape (1, t)

            # forward the GPT model itself
            tok_emb = self.transformer.wte(idx)  # token embeddings of shape (b, t, n_embd)
            pos_emb = self.transformer.wpe(pos)  # position embeddings of shape (1, t, n_embd)
            x = self.transformer.drop(tok_emb + pos_emb)
            for block in self.transformer.h:
                x = block(x)
            x = self.transformer.ln_f(x)
            logits = self.lm_head(x)

            # if we are given some desired targets also calculate the loss
            loss = None
            if targets is not None:
                loss = F.cross_entropy(
                    logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
                )

            return logits, loss

        @torch.no_grad()
        def generate(self, idx, max_new_tokens, temperature=1.0, do_sample=False, top_k=None):
            """
            Take a conditioning sequence of indices idx (LongTensor of shape (b,t)) and complete
            the sequence max_new_tokens times, feeding the predictions back into the model each time.
            """
            for _ in range(max_new_tokens):
                # if the sequence context is growing too long we must crop it at block_size
                idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size :]
                # forward the model to get the logits for the index in the sequence
                logits, _ = self(idx_cond)
                # pluck the logits at the final step and scale by desired temperature
                logits = logits[:, -1, :] / temperature
                # optionally crop the logits to only the top k options
                if top_k is not None:
                    v, _ = torch.topk(logits, top_k)
                    logits[logits < v[:, [-1]]] = -float("Inf")
                # apply softmax to convert logits to (normalized) probabilities
                probs = F.softmax(logits, dim=-1)
                # either sample from the distribution or take the most likely element
                if do_sample:
                    idx_next = torch.multinomial(probs, num_samples=1)
                else:
                    _, idx_next = torch.topk(probs, k=1, dim=-1)
                # append sampled index to the running sequence and continue
                idx = torch.cat((idx, idx_next), dim=1)

            return idx

    return GPT


def _config(lib):
    C = mingpt(lib).get_default_config()
    C.model_type = "gpt-pico"
    C.vocab_size = 11
    C.block_size = 8
    return C


def _gpt(lib):
    gpt = mingpt(lib)
    return lambda: gpt(_config(lib))


def _tokens(seed: int, shape=(2, 6)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 11, shape)


def test_mingpt_logits_and_loss(tmp_path) -> None:
    t, x = twins(_gpt)
    assert x.n_params == t.n_params
    targets = _tokens(9)
    targets[0, :2] = -1  # ignored positions, as minGPT's datasets mark the prompt
    sets = [(_tokens(0), targets), (_tokens(1), _tokens(2))]
    # the `mlpf` lambda attribute is not TorchScript; without targets the loss is None
    check_compiled(t, x, sets, tmp_path, script="neither")
    with torch.no_grad():
        logits, loss = t(torch.from_numpy(_tokens(3)))
    assert loss is None
    got, got_loss = x(xjit.from_numpy(_tokens(3)))
    assert got_loss is None
    assert_close(got, logits, "logits, no targets")


def test_mingpt_generate_greedy_and_top_k() -> None:
    t, x = twins(_gpt)
    prompt = _tokens(4, (2, 3))
    for top_k in (None, 3):
        want = t.generate(torch.from_numpy(prompt), 7, top_k=top_k)  # crops past block_size
        got = x.generate(xjit.from_numpy(prompt), 7, top_k=top_k)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert want.shape == (2, 10)


def test_mingpt_block_traced_with_the_crop() -> None:
    """One step of `generate` past block_size (the `idx[:, -self.block_size:]` crop), traced."""
    t, x = twins(_gpt)
    idx = _tokens(5, (2, 10))

    def step(lib, model, idx):
        idx_cond = idx if idx.size(1) <= model.block_size else idx[:, -model.block_size :]
        logits, _ = model(idx_cond)
        return logits[:, -1, :]

    with torch.no_grad():
        want = step(torch, t, torch.from_numpy(idx))
    traced = xjit.jit.trace(lambda i: step(xjit, x, i), (xjit.from_numpy(idx),))
    assert_close(traced(xjit.from_numpy(idx)), want, "traced step")
    with pytest.raises(AssertionError, match="block size is only 8"):
        x(xjit.from_numpy(_tokens(6, (1, 9))))
