"""pytorch/examples' MNIST `Net` (two `Conv2d`, `Dropout`, `F.max_pool2d`, `torch.flatten`,
`log_softmax`) and the PyTorch NLP tutorial's char-RNN name classifiers (the current one on
`nn.RNN`, the original hand-written `i2h`/`i2o` cell stepped over the letters, and its
`lineToTensor`/`categoryFromOutput` helpers), as their authors write them: eager, traced,
scripted, imported with `xjit.from_torch`, and saved/loaded, against PyTorch."""

from __future__ import annotations

import string

import numpy as np
import pytest
import torch
from model_oracle import assert_close, check_compiled, twins

import xjit
from xjit.errors import FrontendError


def mnist_net(torch):
    nn = torch.nn
    F = torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super(Net, self).__init__()  # noqa: UP008 (the example's spelling)
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = self.conv1(x)
            x = F.relu(x)
            x = self.conv2(x)
            x = F.relu(x)
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch.flatten(x, 1)
            x = self.fc1(x)
            x = F.relu(x)
            x = self.dropout2(x)
            x = self.fc2(x)
            output = F.log_softmax(x, dim=1)
            return output

    return Net


ALL_LETTERS = string.ascii_letters + " .,;'"
N_LETTERS = len(ALL_LETTERS)
CATEGORIES = ["English", "French", "Greek", "Scottish"]


def char_rnn_tutorial(torch):
    """Both of the tutorial's classifiers and its helpers, over one `torch`."""
    nn = torch.nn

    class CharRNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(CharRNN, self).__init__()  # noqa: UP008
            self.rnn = nn.RNN(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensor):
            rnn_out, hidden = self.rnn(line_tensor)
            output = self.h2o(hidden[0])
            output = self.softmax(output)
            return output

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super(RNN, self).__init__()  # noqa: UP008
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(input_size + hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            combined = torch.cat((input, hidden), 1)
            hidden = self.i2h(combined)
            output = self.i2o(combined)
            output = self.softmax(output)
            return output, hidden

        def initHidden(self):  # noqa: N802
            return torch.zeros(1, self.hidden_size)

    class Classify(nn.Module):
        """The tutorial's `evaluate(line_tensor)` loop, as a module so it can be compiled."""

        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, line_tensor):
            hidden = self.rnn.initHidden()
            for i in range(line_tensor.size()[0]):
                output, hidden = self.rnn(line_tensor[i], hidden)
            return output

    def letterToIndex(letter):  # noqa: N802
        return ALL_LETTERS.find(letter)

    def lineToTensor(line):  # noqa: N802
        tensor = torch.zeros(len(line), 1, N_LETTERS)
        for li, letter in enumerate(line):
            tensor[li][0][letterToIndex(letter)] = 1
        return tensor

    def categoryFromOutput(output):  # noqa: N802
        top_n, top_i = output.topk(1)
        category_i = top_i[0].item()
        return CATEGORIES[category_i], category_i

    return CharRNN, RNN, Classify, lineToTensor, categoryFromOutput


def _digits(seed: int, n: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(np.float32)


def test_mnist_net(tmp_path) -> None:
    t, x = twins(mnist_net)
    check_compiled(t, x, [(_digits(0),), (_digits(1),)], tmp_path)


def test_char_rnn_classifier_on_nn_rnn(tmp_path) -> None:
    t, x = twins(lambda lib: char_rnn_tutorial(lib)[0], N_LETTERS, 16, len(CATEGORIES))
    lines = [char_rnn_tutorial(xjit)[3](n).numpy() for n in ("Albert", "Dubois")]
    want = char_rnn_tutorial(torch)[3]("Albert").numpy()
    np.testing.assert_array_equal(lines[0], want)  # lineToTensor's item writes
    check_compiled(t, x, [(a,) for a in lines], tmp_path, script_save=False)


def test_char_rnn_hand_written_cell_stepped_over_a_name(tmp_path) -> None:
    def build(lib):
        _, rnn, classify, _, _ = char_rnn_tutorial(lib)
        return lambda: classify(rnn(N_LETTERS, 16, len(CATEGORIES)))

    t, x = twins(build)
    lines = [char_rnn_tutorial(xjit)[3](n).numpy() for n in ("Satoshi", "Nikolas")]
    # `output` is bound only inside the loop: TorchScript refuses the return, and so does xjit
    check_compiled(t, x, [(a,) for a in lines], tmp_path, script="neither")
    with pytest.raises(FrontendError, match=r"test_model_mnist_charrnn.py:\d+:\d+: .*'output'"):
        xjit.jit.script(x)(xjit.from_numpy(lines[0]))  # compiled at the call, per size
    with torch.no_grad():
        want = char_rnn_tutorial(torch)[4](t(torch.from_numpy(lines[0])))
    got = char_rnn_tutorial(xjit)[4](x(xjit.from_numpy(lines[0])))
    assert got == want and isinstance(got[1], int)
    single = char_rnn_tutorial(xjit)[3]("A")
    assert_close(x(single), t(torch.from_numpy(single.numpy())), "one letter")
