"""Real PyTorch models (torch.nn) that tests/import/ imports with `xjit.from_torch`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return torch.tanh(self.fc2(F.relu(self.fc1(x))))


class GPTBlock(nn.Module):
    """A pre-norm decoder block: causal multi-head attention written with matmuls, GELU MLP."""

    def __init__(self, d: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.out = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, C = x.shape
        hd = C // self.heads
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T, self.heads, hd).transpose(1, 2)
        k = k.view(B, T, self.heads, hd).transpose(1, 2)
        v = v.view(B, T, self.heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / hd**0.5)
        mask = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
        att = F.softmax(att.masked_fill(mask == 0, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class EmbedLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.head = nn.Linear(8, 5)

    def forward(self, idx):
        return self.head(self.emb(idx)).mean(dim=1)


class Structured(nn.Module):
    """Nested inputs (a dict) and outputs (a tuple holding None and a list)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x, state):
        y = self.lin(x) + state["h"]
        return y, None, [torch.sigmoid(y), state["h"] * 2.0]


class LeNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.fc = nn.Linear(8 * 5 * 5, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


class BatchNormNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.bn = nn.BatchNorm1d(6)

    def forward(self, x):
        return self.bn(self.lin(x))


class AvgPoolNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        return self.pool(x).flatten(1)


class LSTMTagger(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 6)
        self.lstm = nn.LSTM(6, 8, batch_first=True)
        self.tag = nn.Linear(8, 3)

    def forward(self, idx):
        out, _ = self.lstm(self.emb(idx))
        return self.tag(out)


class CausalSDPA(nn.Module):
    """Attention through F.scaled_dot_product_attention (decomposed by torch.export)."""

    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(8, 24)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, 2, C // 2).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return y.transpose(1, 2).reshape(B, T, C)


class MHA(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x, need_weights=False)[0]


class GRUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True)

    def forward(self, x):
        out, h = self.gru(x)
        return out, h


class ClampAny(nn.Module):
    def forward(self, x):
        return torch.clamp(x, -1.0, 1.0), x.isnan().logical_not().any(dim=1), (x > 0.5).any(dim=0)


class CoreOps(nn.Module):
    """A spread of core ATen ops: slices, select, cat/stack, reductions with dims, max.dim,
    argmax, where, arange/full, pow/rsqrt/exp/log, softmax/log_softmax, int64 arithmetic."""

    def forward(self, x, i):
        a = x[:, 1:] * 2 - x[:, :-1]
        b = torch.cat([a, x[:, 0:1]], dim=1)
        c = b.mean(dim=-1, keepdim=True) + b.amax(dim=0) - b.sum(0)
        d = torch.where(c > 0, c.exp(), (c.abs() + 1).log())
        e = d.pow(2).rsqrt() / (1 + torch.arange(4, dtype=torch.float32))
        f = x.max(dim=1).values + x.argmax(dim=1).float() + x[:, 1] + x.select(1, 2)
        g = torch.stack([f, -f], 0).t().contiguous().flatten()
        h = torch.minimum(e, torch.zeros_like(e)) + torch.full((3, 4), 0.5)
        k = (i * 3 + 1) - (i > 2).long()
        return e, g, h, k, torch.softmax(x, 0), torch.log_softmax(x, 1), x.t().reshape(2, 6)


class BuffersAndConstants(nn.Module):
    """Tied weights, a persistent and a non-persistent buffer, a constant made in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(6, 4)
        self.head = nn.Linear(4, 6, bias=False)
        self.head.weight = self.emb.weight
        self.register_buffer("scale", torch.tensor([1.0, 2.0, 3.0, 4.0]))
        self.register_buffer("shift", torch.ones(4), persistent=False)

    def forward(self, i):
        h = self.emb(i) * self.scale + self.shift + torch.tensor([0.5, 0.25, 0.0, 1.0])
        return self.head(h)


class ConvAutoencoder(nn.Module):
    """Strided convolutions down, transposed convolutions (output_padding, groups, dilation)
    back up; a 1-d transposed convolution over the flattened rows."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1 = nn.Conv2d(2, 8, 3, stride=2, padding=1)
        self.enc2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.dec1 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.dec2 = nn.ConvTranspose2d(4, 2, (3, 2), stride=2, padding=(1, 0), dilation=(1, 2))
        self.rows = nn.ConvTranspose1d(2, 2, 2, stride=2, bias=False)

    def forward(self, x):
        y = F.relu(self.enc2(F.relu(self.enc1(x))))
        y = torch.sigmoid(self.dec2(F.relu(self.dec1(y))))
        return y, self.rows(y.flatten(2))
