"""Quick backend timing: compiled xjit vs naive numpy (one op at a time), same process.

    python bench/quick_backend.py [--repeats N]

Prints ratios (xjit time / naive numpy time, median of interleaved samples). Issue 6 targets:
MyCell call ≤ 1.2x, elementwise chain on 4M elements ≤ 0.8x. Not a test: never asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import xjit as torch


def _sample(fn, number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def compare(name: str, xjit_fn, naive_fn, number: int, repeats: int) -> float:
    for f in (xjit_fn, naive_fn):  # warm up
        f()
    a, b = [], []
    for _ in range(repeats):  # interleaved: drift hits both
        a.append(_sample(xjit_fn, number))
        b.append(_sample(naive_fn, number))
    ta, tb = statistics.median(a), statistics.median(b)
    print(
        f"{name:<34} xjit {ta * 1e6:10.2f} us   naive numpy {tb * 1e6:10.2f} us   ratio {ta / tb:5.2f}"
    )
    return ta / tb


class MyCell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 4)

    def forward(self, x, h):
        new_h = torch.tanh(self.linear(x) + h)
        return new_h, new_h


def chain(x, a, b):
    return torch.tanh(x * a + b) * torch.sigmoid(x) + x


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass

    torch.manual_seed(0)
    cell = MyCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    traced = torch.jit.trace(cell, (x, h))
    w, bias = cell.linear.weight.numpy(), cell.linear.bias.numpy()
    xn, hn = x.numpy(), h.numpy()

    def naive_cell():
        new_h = np.tanh(xn @ w.T + bias + hn)
        return new_h, new_h

    np.testing.assert_allclose(traced(x, h)[0].numpy(), naive_cell()[0], rtol=1e-6)
    fn = traced.forward._fn
    r1 = compare(
        "a1 MyCell call (traced(x, h))", lambda: traced(x, h), naive_cell, 2000, args.repeats
    )
    compare("   generated code only", lambda: fn(xn, hn), naive_cell, 2000, args.repeats)

    n = 4 * 1024 * 1024
    xs, as_, bs = (torch.randn(n), torch.randn(n), torch.randn(n))
    c = torch.jit.trace(chain, (xs, as_, bs))
    xa, aa, ba = xs.numpy(), as_.numpy(), bs.numpy()

    def naive_chain():
        return np.tanh(xa * aa + ba) * (1 / (1 + np.exp(-xa))) + xa

    np.testing.assert_allclose(c(xs, as_, bs).numpy(), naive_chain(), rtol=1e-5, atol=1e-6)
    r2 = compare(
        "e elementwise chain, 4M f32", lambda: c(xs, as_, bs), naive_chain, 3, args.repeats
    )
    print(
        f"targets: a1 <= 1.2 ({'met' if r1 <= 1.2 else 'missed'}), e <= 0.8 ({'met' if r2 <= 0.8 else 'missed'})"
    )


if __name__ == "__main__":
    main()
