"""Graph pictures (issue 15): `graph_dot()`, `fusion_dot()`, the `view-op-graph` pass and the
Jupyter display. The dot text is checked against the IR it draws (every op a node, every SSA use
an edge, every loop nest a cluster); rendering needs Graphviz's `dot`, an optional system tool."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import optional_dependency_missing
from models import MyCell
from xdsl.ir import BlockArgument

import xjit as torch
from xjit.jit import display
from xjit.passes.view_op_graph import op_graph_dot

NODE = re.compile(r"^\s*(v\d+|arg\d+) \[label=")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)")


def _traced_cell() -> torch.jit.TracedModule:
    return torch.jit.trace(MyCell(), (torch.rand(3, 4), torch.rand(3, 4)))


def test_every_op_is_a_node_and_every_use_an_edge() -> None:
    traced = _traced_cell()
    text = traced.graph_dot()
    module = traced.forward.torch_ir
    ops = [op for op in module.walk() if op is not module]
    args = [a for op in ops for r in op.regions for b in r.blocks for a in b.args]
    nodes = [line for line in text.splitlines() if NODE.match(line)]
    assert len(nodes) == len(ops) + len(args)
    uses = sum(len(op.operands) for op in ops)
    edges = [line for line in text.splitlines() if EDGE.match(line)]
    assert len(edges) == uses
    dashed = sum(isinstance(v, BlockArgument) for op in ops for v in op.operands)
    assert sum("style=dashed" in e for e in edges) == dashed


def test_labels_are_escaped() -> None:
    """Quotes and backslashes in attributes stay inside the dot string."""
    from xdsl.dialects.builtin import ModuleOp, StringAttr
    from xdsl.dialects.test import TestOp

    op = TestOp(attributes={"s": StringAttr('a"b\\c')})
    text = op_graph_dot(ModuleOp([op]), max_label_len=0)
    (label,) = [line for line in text.splitlines() if "test.op" in line]
    body = label.split('label="', 1)[1].rsplit('", shape', 1)[0]
    # Unescaped quotes would end the string early: every quote inside must be escaped.
    assert re.search(r'(?<!\\)"', body) is None


def test_fusion_dot_has_a_cluster_per_nest_and_dataflow_edges() -> None:
    fn = _traced_cell().forward
    nests = [op for op in fn.loop_ir.walk() if op.name == "loop.nest"]
    text = fn.fusion_dot()
    clusters = re.findall(r"subgraph cluster_forward_(\d+) \{", text)
    assert [int(c) for c in clusters] == list(range(1, len(nests) + 1))
    edges = re.findall(r"forward_(\d+)_0 -> forward_(\d+)_0", text)
    assert edges and all(int(a) < int(b) for a, b in edges)
    # The tanh (last op of the cell) is in the last nest, reached from the matmul's nest.
    last = len(nests)
    assert re.search(rf'forward_{last}_\d+ \[label="aten.tanh', text)
    assert any(int(b) == last for _, b in edges)


def test_jupyter_without_graphviz_shows_the_dot_text_and_a_hint(monkeypatch) -> None:
    traced = _traced_cell()
    monkeypatch.setattr(display.shutil, "which", lambda name: None)
    bundle = traced._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    assert bundle["text/plain"].startswith(repr(traced))
    assert "digraph G {" in bundle["text/plain"] and display.HINT in bundle["text/plain"]


def test_dot_renders_with_graphviz() -> None:
    if shutil.which("dot") is None:
        pytest.skip(optional_dependency_missing("dot"))
    traced = _traced_cell()
    for text in (traced.graph_dot(), traced.forward.fusion_dot()):
        done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "<svg" in done.stdout
    assert "<svg" in traced._repr_mimebundle_()["image/svg+xml"]
