"""`view-op-graph`: the op graph as Graphviz dot, as MLIR's `-view-op-graph` draws it.

Ops are nodes labelled with their name, (short) attributes and result types; SSA def-use edges
run from the defining op (or block argument) to the user; an op with regions is a cluster holding
one cluster per region, whose blocks' arguments and ops are drawn inside it. The IR itself is
not changed: the pass only writes the drawing (to stderr unless `output=` names a file), so it
can sit anywhere in a pipeline, like `mlir-opt --view-op-graph`.

    xjit-opt model.mlir -p view-op-graph 2> model.dot && dot -Tsvg model.dot -o model.svg
    xjit-opt model.mlir -p 'torch-to-loops,view-op-graph{output="loops.dot"}'

`op_graph_dot(module)` gives the same text from Python (`TracedModule.graph_dot()`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Attribute, Block, BlockArgument, Operation, SSAValue
from xdsl.passes import ModulePass


def _escape(text: str) -> str:
    """A dot string literal's body: backslashes and quotes escaped, newlines as dot's `\\n`."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def dot_string(text: str) -> str:
    """`text` as a quoted dot string."""
    return f'"{_escape(text)}"'


def _short(text: str, limit: int) -> str:
    return text if limit <= 0 or len(text) <= limit else text[: max(limit - 3, 1)] + "..."


@dataclass
class _Drawing:
    """Builds the dot text in one walk: nodes and clusters first, edges at the end."""

    max_label_len: int
    print_attrs: bool
    print_result_types: bool
    lines: list[str] = field(default_factory=list)
    node_of: dict[SSAValue, str] = field(default_factory=dict)
    anchor_of: dict[Operation, str] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    counter: int = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def label(self, op: Operation) -> str:
        parts = [op.name]
        if self.print_attrs:
            attrs: dict[str, Attribute] = {**op.properties, **op.attributes}
            for name, value in attrs.items():
                parts.append(_short(f"{name}: {value}", self.max_label_len))
        if self.print_result_types and op.results:
            parts.append(_short(", ".join(str(r.type) for r in op.results), self.max_label_len))
        return "\n".join(parts)

    def draw_op(self, op: Operation, indent: str) -> None:
        if not op.regions:
            node = self.fresh("v")
            self.lines.append(f'{indent}{node} [label="{_escape(self.label(op))}", shape=ellipse];')
            self.anchor_of[op] = node
        else:
            self.lines.append(f"{indent}subgraph {self.fresh('cluster_')} {{")
            self.lines.append(f'{indent}  label="{_escape(self.label(op))}";')
            anchor = self.fresh("v")
            # The op's own node: edges into and out of a region-holding op attach here.
            self.lines.append(f'{indent}  {anchor} [label="{_escape(op.name)}", shape=box];')
            self.anchor_of[op] = anchor
            for index, region in enumerate(op.regions):
                self.lines.append(f"{indent}  subgraph {self.fresh('cluster_')} {{")
                self.lines.append(f'{indent}    label="region #{index}";')
                for block in region.blocks:
                    self.draw_block(block, indent + "    ")
                self.lines.append(f"{indent}  }}")
            self.lines.append(f"{indent}}}")
        for result in op.results:
            self.node_of[result] = self.anchor_of[op]
        for operand in op.operands:
            self.edges.append((operand, self.anchor_of[op]))  # type: ignore[arg-type]

    def draw_block(self, block: Block, indent: str) -> None:
        for arg in block.args:
            node = self.fresh("arg")
            name = f"%{arg.name_hint}" if arg.name_hint else f"arg{arg.index}"
            text = f"{name}: {arg.type}" if self.print_result_types else name
            label = _escape(_short(text, self.max_label_len))
            self.lines.append(f'{indent}{node} [label="{label}", shape=plaintext];')
            self.node_of[arg] = node
        for op in block.ops:
            self.draw_op(op, indent)

    def text(self, root: Operation) -> str:
        self.lines = ["digraph G {", "  compound=true;"]
        if isinstance(root, ModuleOp):
            self.draw_block(root.body.block, "  ")
        else:
            self.draw_op(root, "  ")
        for source, target in self.edges:
            origin = self.node_of.get(source)  # type: ignore[call-overload]
            if origin is None:  # a value from outside the drawn op
                continue
            style = " [style=dashed]" if isinstance(source, BlockArgument) else ""
            self.lines.append(f"  {origin} -> {target}{style};")
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"


def op_graph_dot(
    root: Operation,
    *,
    max_label_len: int = 40,
    print_attrs: bool = True,
    print_result_types: bool = True,
) -> str:
    """The Graphviz dot text of `root`'s op graph (a module, a function, any op)."""
    drawing = _Drawing(max_label_len, print_attrs, print_result_types)
    return drawing.text(root)


@dataclass(frozen=True)
class ViewOpGraph(ModulePass):
    """Writes the op graph as Graphviz dot and leaves the IR unchanged."""

    name = "view-op-graph"

    output: str = "-"
    """Where the dot text goes: `-` for stderr (MLIR's default), else a file path."""
    max_label_len: int = 40
    """Attribute and type texts longer than this are cut (0: never)."""
    print_attrs: bool = True
    print_result_types: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        text = op_graph_dot(
            op,
            max_label_len=self.max_label_len,
            print_attrs=self.print_attrs,
            print_result_types=self.print_result_types,
        )
        if self.output == "-":
            sys.stderr.write(text)
            return
        with open(self.output, "w", encoding="utf-8") as out:
            out.write(text)
