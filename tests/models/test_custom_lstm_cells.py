"""Hand-written scripted LSTM cells and layers in the legacy `torch.jit.ScriptModule` +
`@script_method` style of PyTorch's fastrnns benchmarks (our own code): cells with Tuple state,
layers that unbind the input and stack outputs, a reversed layer (`lst[::-1]`), a bidirectional
layer and a stack over `List[Tuple[Tensor, Tensor]]` states. Built with torch and with xjit
(`import xjit as torch`), compared with real PyTorch on the same weights."""

from typing import Any  # noqa: UP035  (as TorchScript code spells them)

import numpy as np
import pytest
import torch as pt
from model_oracle import assert_close

import xjit


def build(torch: Any) -> dict[str, Any]:
    Tensor = torch.Tensor
    Parameter = torch.nn.Parameter
    nn = torch.nn
    jit = torch.jit

    class LSTMCell(jit.ScriptModule):
        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.input_size = input_size
            self.hidden_size = hidden_size
            self.weight_ih = Parameter(torch.randn(4 * hidden_size, input_size))
            self.weight_hh = Parameter(torch.randn(4 * hidden_size, hidden_size))
            self.bias_ih = Parameter(torch.randn(4 * hidden_size))
            self.bias_hh = Parameter(torch.randn(4 * hidden_size))

        @jit.script_method
        def forward(
            self, input: Tensor, state: tuple[Tensor, Tensor]
        ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
            hx, cx = state
            gates = (
                torch.mm(input, self.weight_ih.t())
                + self.bias_ih
                + torch.mm(hx, self.weight_hh.t())
                + self.bias_hh
            )
            ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
            ingate = torch.sigmoid(ingate)
            forgetgate = torch.sigmoid(forgetgate)
            cellgate = torch.tanh(cellgate)
            outgate = torch.sigmoid(outgate)
            cy = (forgetgate * cx) + (ingate * cellgate)
            hy = outgate * torch.tanh(cy)
            return hy, (hy, cy)

    class LayerNormLSTMCell(jit.ScriptModule):
        def __init__(self, input_size, hidden_size):
            super().__init__()
            self.input_size = input_size
            self.hidden_size = hidden_size
            self.weight_ih = Parameter(torch.randn(4 * hidden_size, input_size))
            self.weight_hh = Parameter(torch.randn(4 * hidden_size, hidden_size))
            self.layernorm_i = nn.LayerNorm(4 * hidden_size)
            self.layernorm_h = nn.LayerNorm(4 * hidden_size)
            self.layernorm_c = nn.LayerNorm(hidden_size)

        @jit.script_method
        def forward(
            self, input: Tensor, state: tuple[Tensor, Tensor]
        ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
            hx, cx = state
            igates = self.layernorm_i(torch.mm(input, self.weight_ih.t()))
            hgates = self.layernorm_h(torch.mm(hx, self.weight_hh.t()))
            gates = igates + hgates
            ingate, forgetgate, cellgate, outgate = gates.chunk(4, 1)
            ingate = torch.sigmoid(ingate)
            forgetgate = torch.sigmoid(forgetgate)
            cellgate = torch.tanh(cellgate)
            outgate = torch.sigmoid(outgate)
            cy = self.layernorm_c((forgetgate * cx) + (ingate * cellgate))
            hy = outgate * torch.tanh(cy)
            return hy, (hy, cy)

    class LSTMLayer(jit.ScriptModule):
        def __init__(self, cell, *cell_args):
            super().__init__()
            self.cell = cell(*cell_args)

        @jit.script_method
        def forward(
            self, input: Tensor, state: tuple[Tensor, Tensor]
        ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
            inputs = input.unbind(0)
            outputs = torch.jit.annotate(list[Tensor], [])
            for i in range(len(inputs)):
                out, state = self.cell(inputs[i], state)
                outputs += [out]
            return torch.stack(outputs), state

    def reverse(lst: list[Tensor]) -> list[Tensor]:
        return lst[::-1]

    class ReverseLSTMLayer(jit.ScriptModule):
        def __init__(self, cell, *cell_args):
            super().__init__()
            self.cell = cell(*cell_args)

        @jit.script_method
        def forward(
            self, input: Tensor, state: tuple[Tensor, Tensor]
        ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
            inputs = reverse(input.unbind(0))
            outputs = jit.annotate(list[Tensor], [])
            for i in range(len(inputs)):
                out, state = self.cell(inputs[i], state)
                outputs += [out]
            return torch.stack(reverse(outputs)), state

    class BidirLSTMLayer(jit.ScriptModule):
        __constants__ = ["directions"]

        def __init__(self, cell, *cell_args):
            super().__init__()
            self.directions = nn.ModuleList(
                [
                    LSTMLayer(cell, *cell_args),
                    ReverseLSTMLayer(cell, *cell_args),
                ]
            )

        @jit.script_method
        def forward(
            self, input: Tensor, states: list[tuple[Tensor, Tensor]]
        ) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
            outputs = jit.annotate(list[Tensor], [])
            output_states = jit.annotate(list[tuple[Tensor, Tensor]], [])
            i = 0
            for direction in self.directions:
                state = states[i]
                out, out_state = direction(input, state)
                outputs += [out]
                output_states += [out_state]
                i += 1
            return torch.cat(outputs, -1), output_states

    class StackedLSTM(jit.ScriptModule):
        __constants__ = ["layers"]

        def __init__(self, num_layers, layer, first_layer_args, other_layer_args):
            super().__init__()
            self.layers = nn.ModuleList(
                [layer(*first_layer_args)]
                + [layer(*other_layer_args) for _ in range(num_layers - 1)]
            )

        @jit.script_method
        def forward(
            self, input: Tensor, states: list[tuple[Tensor, Tensor]]
        ) -> tuple[Tensor, list[tuple[Tensor, Tensor]]]:
            output_states = jit.annotate(list[tuple[Tensor, Tensor]], [])
            output = input
            i = 0
            for rnn_layer in self.layers:
                state = states[i]
                output, out_state = rnn_layer(output, state)
                output_states += [out_state]
                i += 1
            return output, output_states

    return dict(
        LSTMCell=LSTMCell,
        LayerNormLSTMCell=LayerNormLSTMCell,
        LSTMLayer=LSTMLayer,
        ReverseLSTMLayer=ReverseLSTMLayer,
        BidirLSTMLayer=BidirLSTMLayer,
        StackedLSTM=StackedLSTM,
    )


T, B, IN, H = 5, 2, 3, 4


def _inputs(lib: Any, n_states: int, step: bool) -> tuple[Any, Any]:
    r = np.random.default_rng(0)
    x = r.standard_normal((T, B, IN)).astype(np.float32)
    h = r.standard_normal((B, H)).astype(np.float32)
    c = r.standard_normal((B, H)).astype(np.float32)
    states = [(lib.from_numpy(h.copy()), lib.from_numpy(c.copy())) for _ in range(n_states)]
    xin = lib.from_numpy((x[0] if step else x).copy())
    return xin, states[0] if n_states == 1 else states


CASES = {
    "LSTMCell": (lambda M: M["LSTMCell"](IN, H), 1, True),
    "LayerNormLSTMCell": (lambda M: M["LayerNormLSTMCell"](IN, H), 1, True),
    "LSTMLayer": (lambda M: M["LSTMLayer"](M["LSTMCell"], IN, H), 1, False),
    "ReverseLSTMLayer": (lambda M: M["ReverseLSTMLayer"](M["LSTMCell"], IN, H), 1, False),
    "BidirLSTMLayer": (lambda M: M["BidirLSTMLayer"](M["LSTMCell"], IN, H), 2, False),
    "StackedLSTM": (
        lambda M: M["StackedLSTM"](
            2, M["LSTMLayer"], [M["LSTMCell"], IN, H], [M["LSTMCell"], H, H]
        ),
        2,
        False,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_scripted_custom_lstm_matches_torch(name: str) -> None:
    make, n_states, step = CASES[name]
    pt.manual_seed(0)
    tm = make(build(pt))
    want = tm(*_inputs(pt, n_states, step))
    xm = make(build(xjit))
    assert list(xm.state_dict()) == list(tm.state_dict())
    xm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    assert_close(xm(*_inputs(xjit, n_states, step)), want, name)
