"""The benchmark's models, written once in the PyTorch tutorial's style.

This file is loaded twice by `bench/workloads.py`, as module `xjit_bench_models_xjit` (where
`torch` below is xjit) and as `xjit_bench_models_torch` (where it is PyTorch): the same source runs
on both, so the peers compare like with like. Classes stay at module level so that
`jit.script` implementations that read source and globals (TorchScript's, xjit's) can see them.
"""

import importlib

torch = importlib.import_module("torch" if __name__.endswith("_torch") else "xjit")


# a1: the tutorial's first MyCell.
class MyCell(torch.nn.Module):
    def __init__(self):
        super(MyCell, self).__init__()  # noqa: UP008  (the tutorial's spelling)
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


# a2 and the RNN cell: the tutorial's MyCell with the decision gate.
class MyDecisionGate(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        else:
            return -x


class MyGatedCell(torch.nn.Module):
    def __init__(self, dg, n: int = 4):
        super(MyGatedCell, self).__init__()  # noqa: UP008
        self.dg = dg
        self.linear = torch.nn.Linear(n, n)

    def forward(self, x, h):
        new_h = torch.tanh(self.dg(self.linear(x)) + h)
        return new_h, new_h


# b1/b2: the tutorial's MyRNNLoop (3x4 state) and WrapRNN.
class MyRNNLoop(torch.nn.Module):
    def __init__(self, cell):
        super(MyRNNLoop, self).__init__()  # noqa: UP008
        self.cell = cell

    def forward(self, xs):
        h, y = torch.zeros(3, 4), torch.zeros(3, 4)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


# c: the same loop at batch 64, hidden 512 (literal sizes, as the tutorial writes them).
class MyRNNLoopWide(torch.nn.Module):
    def __init__(self, cell):
        super(MyRNNLoopWide, self).__init__()  # noqa: UP008
        self.cell = cell

    def forward(self, xs):
        h, y = torch.zeros(64, 512), torch.zeros(64, 512)
        for i in range(xs.size(0)):
            y, h = self.cell(xs[i], h)
        return y, h


class WrapRNN(torch.nn.Module):
    def __init__(self, loop):
        super(WrapRNN, self).__init__()  # noqa: UP008
        self.loop = loop

    def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)


# d: MLP 1024 -> 4096 -> 4096 -> 1024 with relu between the layers.
class MLP(torch.nn.Module):
    def __init__(self):
        super(MLP, self).__init__()  # noqa: UP008
        self.fc1 = torch.nn.Linear(1024, 4096)
        self.fc2 = torch.nn.Linear(4096, 4096)
        self.fc3 = torch.nn.Linear(4096, 1024)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


# e: an elementwise chain.
def chain(x, a, b):
    return torch.tanh(x * a + b) * torch.sigmoid(x) + x


# f: softmax over the last dimension (torch.softmax, or F.softmax where only that exists).
def softmax_last(x):
    return torch.softmax(x, dim=-1)


def softmax_last_functional(x):
    return torch.nn.functional.softmax(x, dim=-1)


# f: layer norm through the functional form, for backends without nn.LayerNorm.
class LayerNormF(torch.nn.Module):
    def __init__(self, n: int):
        super(LayerNormF, self).__init__()  # noqa: UP008
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.bias = torch.nn.Parameter(torch.zeros(n))
        self.n = n

    def forward(self, x):
        return torch.nn.functional.layer_norm(x, (self.n,), self.weight, self.bias, 1e-5)


# Synthetic straight-line graph for compile-time scaling: exactly `n` torch ops.
def make_chain(n: int):
    def straight_line(x, y):
        for i in range(n):
            k = i % 4
            if k == 0:
                x = torch.tanh(x)
            elif k == 1:
                x = x * 0.9
            elif k == 2:
                x = x + y
            else:
                x = x - 0.1
        return x

    return straight_line


# g: a GPT decoder block (nanoGPT's layout): causal self-attention with a `tril` mask buffer
# and masked_fill, LayerNorm before each half, a GELU MLP, residual adds.
class CausalSelfAttention(torch.nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.c_attn = torch.nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = torch.nn.Linear(n_embd, n_embd)
        self.n_head = n_head
        self.n_embd = n_embd
        mask = torch.tril(torch.ones(block_size, block_size))
        self.register_buffer("bias", mask.view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        hs = C // self.n_head
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / hs**0.5)
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = torch.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class GPTMLP(torch.nn.Module):
    def __init__(self, n_embd: int):
        super().__init__()
        self.c_fc = torch.nn.Linear(n_embd, 4 * n_embd)
        self.gelu = torch.nn.GELU()
        self.c_proj = torch.nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class GPTBlock(torch.nn.Module):
    def __init__(self, n_embd: int = 128, n_head: int = 4, block_size: int = 64):
        super().__init__()
        self.ln_1 = torch.nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size)
        self.ln_2 = torch.nn.LayerNorm(n_embd)
        self.mlp = GPTMLP(n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


# h: an LSTM layer written as a cell in a `for` loop (scripted), as fastrnns' "script" LSTM.
# The gates are sliced (xjit's script has no list-returning chunk() yet).
class LSTMLoop(torch.nn.Module):
    def __init__(self, n_in: int = 256, n_hidden: int = 256):
        super().__init__()
        self.ih = torch.nn.Linear(n_in, 4 * n_hidden)
        self.hh = torch.nn.Linear(n_hidden, 4 * n_hidden)

    def forward(self, xs, h, c):
        n = h.size(1)
        for t in range(xs.size(0)):
            gates = self.ih(xs[t]) + self.hh(h)
            i = torch.sigmoid(gates[:, 0:n])
            f = torch.sigmoid(gates[:, n : 2 * n])
            g = torch.tanh(gates[:, 2 * n : 3 * n])
            o = torch.sigmoid(gates[:, 3 * n : 4 * n])
            c = f * c + i * g
            h = o * torch.tanh(c)
        return h, c


# g2: a 2-layer GPT forward (nanoGPT's GPT without dropout): token + position embeddings, the
# blocks above, a final LayerNorm and the lm head (no bias, not tied to the token embedding).
class GPT(torch.nn.Module):
    def __init__(
        self,
        vocab_size: int = 512,
        n_embd: int = 128,
        n_head: int = 4,
        block_size: int = 64,
        n_layer: int = 2,
    ):
        super().__init__()
        self.wte = torch.nn.Embedding(vocab_size, n_embd)
        self.wpe = torch.nn.Embedding(block_size, n_embd)
        self.h = torch.nn.ModuleList([GPTBlock(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = torch.nn.LayerNorm(n_embd)
        self.lm_head = torch.nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx):
        B, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


# h2: nn.LSTM, 2 layers.
class LSTM2(torch.nn.Module):
    def __init__(self, n_in: int = 256, n_hidden: int = 256):
        super().__init__()
        self.lstm = torch.nn.LSTM(n_in, n_hidden, 2)

    def forward(self, xs, h, c):
        out, (h, c) = self.lstm(xs, (h, c))
        return out, h, c


# i: a LeNet-5-style CNN (conv 5x5 -> relu -> 2x2 max pool, twice; three linear layers).
class LeNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)
