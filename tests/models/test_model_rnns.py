"""Recurrent models as users write them: the PyTorch tutorial's LSTM part-of-speech tagger
(`Embedding` + `nn.LSTM` + `log_softmax`), a char-RNN name classifier (`nn.RNN` +
`LogSoftmax`), the tutorial's hand-written RNN (`cat` + two `Linear`s), a stacked
bidirectional GRU language model, and a custom LSTM cell (`chunk` of the gates)."""

from __future__ import annotations

import numpy as np
import torch
from model_oracle import assert_close, compare, twins

import xjit


def lstm_tagger(torch):
    nn = torch.nn
    F = torch.nn.functional

    class LSTMTagger(nn.Module):
        def __init__(self, embedding_dim=6, hidden_dim=6, vocab_size=9, tagset_size=3):
            super().__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

        def forward(self, sentence):
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            return F.log_softmax(tag_space, dim=1)

    return LSTMTagger


def char_rnn(torch):
    nn = torch.nn

    class CharRNN(nn.Module):
        def __init__(self, input_size=7, hidden_size=12, output_size=4):
            super().__init__()
            self.rnn = nn.RNN(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensor):
            rnn_out, hidden = self.rnn(line_tensor)
            return self.softmax(self.h2o(hidden[0]))

    return CharRNN


def tutorial_rnn(torch):
    nn = torch.nn

    class RNN(nn.Module):
        def __init__(self, input_size=7, hidden_size=5, output_size=3):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(input_size + hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            combined = torch.cat((input, hidden), 1)
            hidden = self.i2h(combined)
            output = self.softmax(self.i2o(combined))
            return output, hidden

        def init_hidden(self):
            return torch.zeros(1, self.hidden_size)

    return RNN


def gru_lm(torch):
    nn = torch.nn

    class GRULM(nn.Module):
        def __init__(self, ntoken=13, ninp=6, nhid=5, nlayers=2):
            super().__init__()
            self.drop = nn.Dropout(0.2)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = nn.GRU(
                ninp, nhid, nlayers, dropout=0.2, bidirectional=True, batch_first=True
            )
            self.decoder = nn.Linear(2 * nhid, ntoken)
            self.init_weights()

        def init_weights(self):
            nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            decoded = self.decoder(self.drop(output))
            return torch.log_softmax(decoded, dim=-1), hidden

    return GRULM


def test_lstm_tagger() -> None:
    t, x = twins(lstm_tagger)
    compare(t, x, np.array([1, 4, 2, 8, 0]))


def test_char_rnn_classifier() -> None:
    t, x = twins(char_rnn)
    line = np.zeros((5, 1, 7), np.float32)  # one-hot letters, as the tutorial's lineToTensor
    line[np.arange(5), 0, [3, 0, 6, 6, 1]] = 1
    compare(t, x, line)


def test_tutorial_rnn_step_loop() -> None:
    t, x = twins(tutorial_rnn)
    letters = np.eye(7, dtype=np.float32)[[2, 5, 1]][:, None, :]

    def run(lib, model, seq):
        hidden = model.init_hidden()
        for i in range(seq.size()[0]):
            output, hidden = model(seq[i], hidden)
        return output, hidden

    with torch.no_grad():
        want = run(torch, t, torch.from_numpy(letters))
    assert_close(run(xjit, x, xjit.from_numpy(letters)), want, "eager")
    traced = xjit.jit.trace(lambda s: run(xjit, x, s), (xjit.from_numpy(letters),))
    assert_close(traced(xjit.from_numpy(letters)), want, "traced")


def test_stacked_bidirectional_gru_lm() -> None:
    t, x = twins(gru_lm)
    tokens = np.random.default_rng(0).integers(0, 13, (2, 4))
    hidden = np.random.default_rng(1).standard_normal((4, 2, 5)).astype(np.float32)
    compare(t, x, tokens, hidden)


def custom_lstm_cell(torch):
    nn = torch.nn

    class LSTMCell(nn.Module):
        def __init__(self, input_size=4, hidden_size=3):
            super().__init__()
            self.weight_ih = nn.Parameter(torch.randn(4 * hidden_size, input_size))
            self.weight_hh = nn.Parameter(torch.randn(4 * hidden_size, hidden_size))
            self.bias = nn.Parameter(torch.randn(4 * hidden_size))

        def forward(self, input, hx, cx):
            gates = (
                torch.mm(input, self.weight_ih.t()) + torch.mm(hx, self.weight_hh.t()) + self.bias
            )
            ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
            ingate = torch.sigmoid(ingate)
            forgetgate = torch.sigmoid(forgetgate)
            cellgate = torch.tanh(cellgate)
            outgate = torch.sigmoid(outgate)
            cy = (forgetgate * cx) + (ingate * cellgate)
            hy = outgate * torch.tanh(cy)
            return hy, cy

    return LSTMCell


def test_custom_lstm_cell_eager_traced_and_scripted() -> None:
    t, x = twins(custom_lstm_cell)
    rng = np.random.default_rng(2)
    inp, h, c = (rng.standard_normal(s).astype(np.float32) for s in [(2, 4), (2, 3), (2, 3)])
    compare(t, x, inp, h, c)
    # `gates.chunk(4, 1)` scripts as a compile-time list of slices, as in TorchScript
    with torch.no_grad():
        want = torch.jit.script(t)(*(torch.from_numpy(a.copy()) for a in (inp, h, c)))
    got = xjit.jit.script(x)(xjit.from_numpy(inp), xjit.from_numpy(h), xjit.from_numpy(c))
    assert_close(got, want, "scripted")


def stacked_lstm(torch):
    nn = torch.nn

    class StackedLSTM(nn.Module):  # bench row h2's model: the state passed in, all 3 outputs
        def __init__(self, n_in=5, n_hidden=6):
            super().__init__()
            self.lstm = nn.LSTM(n_in, n_hidden, 2)

        def forward(self, xs, h, c):
            out, (h, c) = self.lstm(xs, (h, c))
            return out, h, c

    return StackedLSTM


def test_two_layer_lstm_traced_and_scripted_match_torch() -> None:
    """Bench row h2 (nn.LSTM, 2 layers) at a small size: eager, traced and scripted against
    PyTorch, on the input set it was compiled for and on another with a non-zero state."""
    t, x = twins(stacked_lstm)
    rng = np.random.default_rng(3)
    x1, x2 = rng.standard_normal((2, 7, 3, 5)).astype(np.float32)
    zeros = np.zeros((2, 3, 6), np.float32)
    h, c = (0.5 * rng.standard_normal((2, 2, 3, 6))).astype(np.float32)
    sets = [(x1, zeros, zeros), (x2, h, c)]
    traced = compare(t, x, *sets[0])
    scripted = xjit.jit.script(x)
    for arrays in sets:
        with torch.no_grad():
            want = t(*(torch.from_numpy(a.copy()) for a in arrays))
        xs = [xjit.from_numpy(a.copy()) for a in arrays]
        assert_close(traced(*xs), want, "traced")
        assert_close(scripted(*xs), want, "scripted")
