"""`.code` (frontends/python_printer.py) of the tutorial's traced and scripted modules: valid
Python (ast.parse), each module's own methods only with submodule calls as `self.<path>(...)`
(TorchScript's layout), no redundant `_3 = _4` copies, and — the oracle — the code run as eager
Python (`torch` = xjit, `self` = the module) computes what the module computes."""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import runpy

import numpy as np
import pytest

import xjit as torch

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def tutorial():
    with contextlib.redirect_stdout(io.StringIO()):
        return runpy.run_path(os.path.join(HERE, "..", "examples", "intro_tutorial.py"))


def run_code(code: str, module, *args):
    """Run `.code` as eager Python (our own printer's output, in a test)."""
    ns = {"torch": torch, "Tensor": torch.Tensor, "Tuple": tuple, "List": list}
    exec(compile(code, "<code>", "exec"), ns)  # noqa: S102
    return ns["forward"](module, *args)


def modules(g):
    t = g["traced"]
    return {
        "traced_cell": g["traced_cell"],
        "scripted_gate": g["scripted_gate"],
        "scripted_cell": g["scripted_cell"],
        "rnn_loop": g["rnn_loop"],
        "traced": t,
        "traced.loop": t.loop,
        "traced.loop.cell": t.loop.cell,
        "traced.loop.cell.dg": t.loop.cell.dg,
    }


def test_code_is_valid_python_with_calls_not_callee_bodies(tutorial) -> None:
    for name, m in modules(tutorial).items():
        code = m.code
        tree = ast.parse(code)  # valid syntax
        defs = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert defs == ["forward"], (name, code)
        assert not re.search(r"^\s*(_\d+) = (_\d+)$", code, re.M), (name, code)  # no _3 = _4
    assert "_0, _1 = self.loop(xs)" in tutorial["traced"].code
    assert "y, h = self.cell(_4, h)" in tutorial["rnn_loop"].code
    assert "self.linear(x)" in tutorial["scripted_cell"].code
    assert "_3 = torch.neg(x)" in tutorial["scripted_gate"].code


def test_code_runs_as_eager_python_and_agrees(tutorial) -> None:
    g = tutorial
    x, h, xs = torch.rand(3, 4) - 0.5, torch.rand(3, 4), torch.rand(5, 3, 4)
    cases = [
        ("scripted_gate", (x,)),
        ("scripted_gate", (-x,)),
        ("scripted_cell", (x, h)),
        ("rnn_loop", (xs,)),
        ("traced", (torch.rand(10, 3, 4),)),
        ("traced.loop", (xs,)),
    ]
    for name, args in cases:
        m = modules(g)[name]
        got, want = run_code(m.code, m, *args), m(*args)
        for a, b in zip(
            got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)
        ):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_scripted_functions_are_plain_defs_after_the_method(tmp_path) -> None:
    src = tmp_path / "fnmod.py"
    src.write_text(
        "import xjit as torch\n"
        "def helper(a, b):\n"
        "    return a * b - 1\n"
        "class M(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.lin = torch.nn.Linear(2, 2)\n"
        "    def forward(self, x):\n"
        "        for _ in range(2):\n"
        "            x = helper(self.lin(x), x)\n"
        "        return x\n"
    )
    ns = runpy.run_path(str(src))
    m = torch.jit.script(ns["M"]())
    code = m.code
    tree = ast.parse(code)
    assert [n.name for n in tree.body] == ["forward", "helper"]
    assert [a.arg for a in tree.body[1].args.args] == ["a", "b"]  # a function: no self
    x = torch.randn(3, 2)
    np.testing.assert_allclose(run_code(code, m, x).numpy(), m(x).numpy(), rtol=1e-5)
    f = torch.jit.script(ns["helper"])
    assert f.code.startswith("def helper(a: Tensor, b: Tensor) -> Tensor:")
    ast.parse(f.code)


def test_swapped_loop_carried_values_assign_in_parallel(tmp_path) -> None:
    src = tmp_path / "swap.py"
    src.write_text(
        "def swap(a, b, n: int):\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
    )
    ns = runpy.run_path(str(src))
    f = torch.jit.script(ns["swap"])
    code = f.code
    ast.parse(code)
    fn = {"torch": torch, "Tensor": torch.Tensor}
    exec(compile(code, "<code>", "exec"), fn)  # noqa: S102
    a, b = torch.ones(2), torch.ones(2)
    np.testing.assert_array_equal(fn["swap"](a, b, 5).numpy(), ns["swap"](a, b, 5).numpy())
