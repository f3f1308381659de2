"""`.code` re-scripts to the same program (issue 15, item 3): the Python that `.code` prints,
written to a module file with the original's submodules and parameters bound to `self` and
scripted again, gives the same torch-dialect IR (modulo SSA names and locations) and the same
results on fresh inputs. The oracles are the original scripted module's IR and values (and,
for the values, the eager module)."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from models import MyCell, MyDecisionGate, MyGatedCell, MyRNNLoop, WrapRNN
from xdsl.parser import Parser

import xjit as torch
from xjit.dialects import make_context

HEADER = """\
from typing import List, Optional, Tuple

import xjit as torch
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


def canonical_ir(module: Any) -> str:
    """The module's text with every SSA value and block argument unnamed (printed %0, %1, ...):
    name hints are the only freedom `.code` has; locations are not printed."""
    m = Parser(make_context(), str(module)).parse_module()
    for op in m.walk():
        for r in op.results:
            r.name_hint = None
        for region in op.regions:
            for block in region.blocks:
                for a in block.args:
                    a.name_hint = None
    return str(m)


def rescript(original: torch.nn.Module, tmp: Path) -> tuple[Any, Any, str]:
    """(scripted original, scripted re-import of its `.code`, the code)."""
    scripted = torch.jit.script(original)
    code = scripted.code
    path = tmp / f"rescripted_{next(_counter)}.py"
    path.write_text(HEADER + textwrap.indent(code, "    "))
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
    return [np.asarray(v.numpy())]


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
