"""`.code` re-scripts to the same program (issue 15, item 3): the Python that `.code` prints,
written to a module file with the original's submodules and parameters bound to `self` and
scripted again, gives the same torch-dialect IR (modulo SSA names and locations) and the same
results on fresh inputs. The oracles are the original scripted module's IR and values (and,
for the values, the eager module)."""

from __future__ import annotations

import importlib.util
import itertools
import random
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from models import MyCell, MyDecisionGate, MyGatedCell, MyRNNLoop, WrapRNN
from xdsl.parser import Parser

import xjit as torch
import xjit.nn.functional as F
from xjit.dialects import make_context

HEADER = """\
from typing import List, Optional, Tuple

import xjit as torch
import xjit.nn.functional as F
from xjit import Tensor


class Rescripted(torch.nn.Module):
    def __init__(self, original):
        super().__init__()
        for name, child in original.named_children():
            setattr(self, name, child)
        for name, p in original.named_parameters(recurse=False):
            setattr(self, name, p)
        for name, b in original.named_buffers(recurse=False):
            self.register_buffer(name, b)

"""

_counter = itertools.count()


_CONSTANT = re.compile(r"^\s*(%\d+) = torch\.constant\.(\w+)\s*(.*?)\s*$")
_VALUE = re.compile(r"%\d+")


def canonical_ir(module: Any) -> str:
    """The module's text modulo SSA names: every value unnamed and renumbered per function in
    order of first appearance, and `torch.constant.*` ops folded into their uses (`%3` ->
    `int(1)`), since where the frontend materialises a constant (a subscript's before a call's
    ...) is not part of the program. Locations are not printed."""
    m = Parser(make_context(), str(module)).parse_module()
    for op in m.walk():
        for r in op.results:
            r.name_hint = None
        for region in op.regions:
            for block in region.blocks:
                for a in block.args:
                    a.name_hint = None
    out: list[str] = []
    consts: dict[str, str] = {}
    numbers: dict[str, str] = {}
    for line in str(m).splitlines():
        if "func.func" in line:  # each function numbers its values from 0
            consts.clear()
            numbers.clear()
        c = _CONSTANT.match(line)
        if c:
            consts[c.group(1)] = f"{c.group(2)}({c.group(3)})"
            continue

        def rename(v: re.Match[str]) -> str:
            t = v.group(0)
            return consts.get(t) or numbers.setdefault(t, f"%{len(numbers)}")

        out.append(_VALUE.sub(rename, line))
    return "\n".join(out)


def rescript(original: torch.nn.Module, tmp: Path) -> tuple[Any, Any, str]:
    """(scripted original, scripted re-import of its `.code`, the code)."""
    scripted = torch.jit.script(original)
    code = scripted.code
    path = tmp / f"rescripted_{next(_counter)}.py"
    # `.code` is the module's methods (first argument `self`), then the scripted functions
    # they call: the methods go into the class, the functions before it.
    chunks = re.split(r"\n(?=def )", code.strip())
    methods = [c for c in chunks if c.split("(", 1)[1].startswith("self")]
    functions = [c for c in chunks if c not in methods]
    header = HEADER.replace("\n\nclass", "\n\n" + "\n\n\n".join(functions) + "\n\n\nclass")
    path.write_text(header + textwrap.indent("\n\n".join(methods), "    ") + "\n")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = mod  # script reads the class's source through its module
    spec.loader.exec_module(mod)
    again = torch.jit.script(mod.Rescripted(original))
    return scripted, again, code


def assert_same_program(original: torch.nn.Module, tmp: Path, *inputs: Any) -> None:
    scripted, again, code = rescript(original, tmp)
    want_ir = canonical_ir(scripted.graph_source()["ir"])
    got_ir = canonical_ir(again.graph_source()["ir"])
    assert got_ir == want_ir, f"re-scripted IR differs; the code was:\n{code}"
    want = scripted(*inputs)
    got = again(*inputs)
    eager = original(*inputs)
    for g, w, e in zip(_flat(got), _flat(want), _flat(eager), strict=True):
        np.testing.assert_array_equal(g, w)
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def _flat(v: Any) -> list[np.ndarray]:
    if isinstance(v, (tuple, list)):
        return [a for x in v for a in _flat(x)]
    return [np.asarray(v.numpy() if hasattr(v, "numpy") else v)]


def test_mycell(tmp_path: Path) -> None:
    assert_same_program(MyCell(), tmp_path, torch.rand(3, 4), torch.rand(3, 4))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_decision_gate(tmp_path: Path, sign: float) -> None:
    assert_same_program(MyDecisionGate(), tmp_path, torch.rand(3, 4) * sign)


def test_gated_cell(tmp_path: Path) -> None:
    cell = MyGatedCell(MyDecisionGate())
    assert_same_program(cell, tmp_path, torch.rand(3, 4), torch.rand(3, 4))


def test_rnn_loop_and_wrapper(tmp_path: Path) -> None:
    loop = MyRNNLoop(MyGatedCell(MyDecisionGate()))
    assert_same_program(loop, tmp_path, torch.rand(5, 3, 4))
    assert_same_program(WrapRNN(loop), tmp_path, torch.rand(6, 3, 4))


def underscore_names(x):
    _1 = x + 1
    for _2 in range(2):
        _1 = _1 * 2
    return _1


def test_underscore_digit_variables_script() -> None:
    """`_1 = ...` (how `.code` names temporaries) used to crash scripting: xDSL drops a `_<n>`
    suffix from a name hint, leaving an invalid empty name."""
    x = torch.rand(3)
    np.testing.assert_allclose(torch.jit.script(underscore_names)(x).numpy(), (x.numpy() + 1) * 4)


# -- constructs the tutorial does not use ------------------------------------------------------


def helper(a, b: float):
    return torch.relu(a) * b


class Functional(torch.nn.Module):
    """`torch.nn.functional.linear`, keyword arguments, own parameters and buffers, a scripted
    helper function (printed after the method: it goes to module level)."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.rand(4, 4))
        self.register_buffer("b", torch.rand(4))

    def forward(self, x):
        y = F.linear(x, self.w, self.b)
        return helper(F.softmax(y, dim=-1), 2.0)


class Slicing(torch.nn.Module):
    """Slices leave out middle defaults (`x[:2]` is slice(dim=0, start=None, end=2)): the
    printed call must name the arguments after a left-out one."""

    def forward(self, x):
        a = x[1:, :2]
        c = torch.cat([a.reshape(-1), x.view(-1)], 0)
        n = x.size(1) * 2 + 1
        return c[:n], x.transpose(0, 1)


class EarlyReturn(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return x - 1


class Reductions(torch.nn.Module):
    def forward(self, x):
        mx, idx = torch.max(x, 1)
        return x.mean(dim=1, keepdim=True), torch.sum(x, 1), mx, idx


class Scalars(torch.nn.Module):
    def forward(self, x, k: int, f: float):
        y = x * f
        for j in range(k):
            y = y + float(j)
        return y, k + 1


class While(torch.nn.Module):
    def forward(self, x):
        i = 0
        while i < 3:
            x = x * 2.0
            i += 1
        return x


class WhileOnTensor(torch.nn.Module):
    """A `while` whose first test is not a constant: `.code` prints `while <first test>:` and
    ends the body in `if not <next test>: break`."""

    def forward(self, x, n: int):
        i = 0
        while bool(x.sum() < 100.0) and i < n:
            x = x * 2.0 + 1.0
            i += 1
        return x, i


@pytest.mark.parametrize(
    "module, args",
    [
        (Functional, ()),
        (Slicing, ()),
        (EarlyReturn, ()),
        (Reductions, ()),
        (Scalars, (3, 0.5)),
        (While, ()),
        (WhileOnTensor, (5,)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_constructs(tmp_path: Path, module: type, args: tuple[Any, ...]) -> None:
    for sign in (1.0, -1.0):
        assert_same_program(module(), tmp_path, torch.rand(3, 4) * sign, *args)


def test_tutorial_rnn_from_the_model_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model tests' modules that script (the RNN/GRU/LSTM and GPT ones do not: nn.RNN's
    `self.mode` string, `arange(device=)`)."""
    spec = importlib.util.spec_from_file_location(
        "model_rnns", Path(__file__).parent / "models" / "test_model_rnns.py"
    )
    assert spec is not None and spec.loader is not None
    monkeypatch.syspath_prepend(str(Path(__file__).parent / "models"))  # its model_oracle
    rnns = importlib.util.module_from_spec(spec)
    sys.modules["model_rnns"] = rnns
    spec.loader.exec_module(rnns)
    rnn = rnns.tutorial_rnn(torch)()
    assert_same_program(rnn, tmp_path, torch.rand(1, 7), torch.rand(1, 5))


# -- random programs ---------------------------------------------------------------------------
# A seeded generator of forward() bodies over registry elementwise ops, with `if` on a tensor
# condition and `for` loops carrying values. The same source run by real PyTorch is the oracle
# for the values.

UNARY = ["tanh", "sigmoid", "relu", "neg", "abs", "sin", "cos"]  # bounded on bounded inputs
BINARY = ["add", "sub", "mul", "maximum", "minimum"]
OPERATORS = ["{a} + {b}", "{a} * {b}", "{a} - {b}", "{a} * 0.5", "{a} + 1.0", "-{a}"]


def _expr(rng: random.Random, names: list[str]) -> str:
    a, b = rng.choice(names), rng.choice(names)
    kind = rng.randrange(3)
    if kind == 0:
        return f"torch.{rng.choice(UNARY)}({a})"
    if kind == 1:
        return f"torch.{rng.choice(BINARY)}({a}, {b})"
    return rng.choice(OPERATORS).format(a=a, b=b)


def _body(
    rng: random.Random, names: list[str], depth: int, indent: str
) -> tuple[list[str], list[str]]:
    """Statements, and the names defined after them (a loop body's own are not)."""
    lines: list[str] = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(6) if depth < 2 else 0
        target = f"v{len(names)}" if rng.random() < 0.6 else rng.choice(names[2:] or ["x"])
        if kind == 4:  # an if on a tensor condition; both branches assign the target
            cond = f"{rng.choice(names)}.sum() > {rng.choice(['0', '1.0', '-0.5'])}"
            lines.append(f"{indent}if {cond}:")
            lines.append(f"{indent}    {target} = {_expr(rng, names)}")
            lines.append(f"{indent}else:")
            lines.append(f"{indent}    {target} = {_expr(rng, names)}")
        elif kind == 5:  # a loop that carries the target
            if target not in names:
                lines.append(f"{indent}{target} = {_expr(rng, names)}")
            bound = rng.choice(["3", "x.size(0)"])
            lines.append(f"{indent}for i in range({bound}):")
            inner = [*names, target] if target not in names else names
            lines.append(f"{indent}    {target} = {_expr(rng, inner)}")
            lines += _body(rng, inner, depth + 1, indent + "    ")[0]
        else:
            lines.append(f"{indent}{target} = {_expr(rng, names)}")
        if target not in names:
            names = [*names, target]
    return lines, names


def random_program(seed: int) -> str:
    """A module class `Gen` whose forward(x, y) returns one or two of its values."""
    rng = random.Random(seed)
    body, defined = _body(rng, ["x", "y"], 0, "        ")
    outs = rng.sample(defined, min(len(defined), rng.randint(1, 2)))
    ret = outs[0] if len(outs) == 1 else f"({', '.join(outs)})"
    return "\n".join(
        [
            "class Gen(torch.nn.Module):",
            "    def forward(self, x, y):",
            *body,
            f"        return {ret}",
            "",
        ]
    )


def _load(tmp: Path, source: str, lib: str) -> Any:
    path = tmp / f"gen_{next(_counter)}.py"
    path.write_text(f"import {lib} as torch\n\n\n{source}")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = mod
    spec.loader.exec_module(mod)
    return mod.Gen()


@pytest.mark.parametrize("seed", range(40))
def test_random_program(tmp_path: Path, seed: int) -> None:
    import torch as real  # the oracle: the same source run by PyTorch

    source = random_program(seed)
    original = _load(tmp_path, source, "xjit")
    x, y = (
        np.random.default_rng(seed + k).uniform(-1, 1, (3, 4)).astype(np.float32) for k in (0, 1)
    )
    assert_same_program(original, tmp_path, torch.from_numpy(x), torch.from_numpy(y))
    _, again, code = rescript(original, tmp_path)
    got = again(torch.from_numpy(x), torch.from_numpy(y))
    with real.no_grad():
        want = _load(tmp_path, source, "torch")(real.from_numpy(x), real.from_numpy(y))
    for g, w in zip(_flat(got), _flat(want), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"{source}\n{code}")
