"""The TorchScript tutorial's first model, traced and compiled by xjit.

Run: python examples/mycell.py
"""

import numpy as np

import xjit as torch


class MyCell(torch.nn.Module):
    def __init__(self):
        super(MyCell, self).__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


def main() -> None:
    torch.manual_seed(0)
    my_cell = MyCell()
    print(my_cell)
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    traced = torch.jit.trace(my_cell, (x, h))
    print("\n# traced.graph: torch-dialect IR of forward")
    print(traced.graph)
    print("\n# traced.code: a Python rendering of that IR")
    print(traced.code)
    print("# traced(x, h): runs the numpy code generated from the loop-level IR")
    print(traced(x, h))

    # The compiled module must agree with eager execution, on these and on new inputs.
    for inputs in [(x, h), (torch.randn(3, 4), torch.randn(3, 4))]:
        compiled, eager = traced(*inputs), my_cell(*inputs)
        for c, e in zip(compiled, eager):
            np.testing.assert_allclose(c.numpy(), e.numpy(), rtol=1e-6, atol=1e-6)
    print("\ncompiled == eager on the example and on new inputs")

    print("\n# the generated numpy source (traced.forward.source)")
    print(traced.forward.source)


if __name__ == "__main__":
    main()
