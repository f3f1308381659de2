"""The fusion report (in the spirit of numba's parallel diagnostics): which torch ops ended up in
each loop nest, with their Python source lines when the frontend recorded them, and why the
remaining producer→consumer edges were not fused.

Provenance travels in op locations (`loc("aten.tanh"("model.py":12:8))`, fused ops
`loc(fused[...])`, set by convert-torch-to-linalg and linalg-fuse-elementwise, kept by bufferize
and convert-linalg-to-loop); the reasons come from the `FusionLog` the fusion pass fills when
run under `collect_fusion_log()`.

    xjit-opt model.mlir -p torch-to-loops --fusion-report      (report on stderr)
    compiled.fusion_report()                                   (CompiledFunction)

`fusion_dot` draws the same as Graphviz dot: one cluster per loop nest holding the torch ops it
computes (red when also computed in another nest), and an edge from the nest that last wrote a
buffer to each nest that reads it (`--fusion-report --format dot`, `compiled.fusion_dot()`).
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue

from xjit.passes.linalg_fuse_elementwise import FusionLog, describe_part, origin_parts
from xjit.passes.view_op_graph import dot_string


def _kernels(f: func.FuncOp) -> list[Operation]:
    """The loop nests of `f` (loops stage), or its linalg ops (earlier stages)."""
    nests = [op for op in f.walk() if op.name == "loop.nest"]
    if nests:
        return nests
    return [
        op
        for op in f.walk()
        if op.name.startswith("linalg.")
        and op.name not in ("linalg.yield", "linalg.index")
        and op.parent_op() is not None
        and not op.parent_op().name.startswith("linalg.")
    ]  # type: ignore[union-attr]


def _kind(op: Operation) -> str:
    if op.name == "loop.nest":
        kinds = [k.data for k in op.iterators.data]  # type: ignore[attr-defined]
        body = list(op.regions[0].block.ops)
        stores = sum(1 for o in body if o.name == "loop.store")
        if not any(o.name == "loop.load" for o in body):
            return "fill"
        what = "reduction" if "reduction" in kinds else "elementwise"
        return what + (f", {stores} outputs" if stores > 1 else "")
    return op.name


def fusion_report(module: ModuleOp, log: FusionLog | None = None) -> str:
    lines: list[str] = []
    for f in module.walk():
        if not isinstance(f, func.FuncOp) or f.is_declaration:
            continue
        kernels = _kernels(f)
        unit = "loop nests" if kernels and kernels[0].name == "loop.nest" else "linalg ops"
        lines.append(f"@{f.sym_name.data}: {len(kernels)} {unit}")
        seen: dict[str, int] = {}
        for k, op in enumerate(kernels, 1):
            parts = [describe_part(p) for p in origin_parts(op.location)]
            kind = _kind(op)
            lines.append(f"  #{k} ({kind}):")
            for p in parts or ["(no torch op recorded)"]:
                # A fill only initialises the accumulator of the op's reduction nest.
                first = k if kind == "fill" else seen.setdefault(p, k)
                again = f"  [also in #{first}: recomputed]" if first != k and parts else ""
                lines.append(f"      {p}{again}")
    if log is not None:
        if log.fused:
            lines.append("fused:")
            lines += [f"  {p}  ->  {c}: {how}" for p, c, how in log.fused]
        if log.refused:
            lines.append("not fused:")
            lines += [f"  {p}  ->  {c}: {why}" for p, c, why in log.refused]
    return "\n".join(lines) + "\n"


def _reads_writes(kernel: Operation) -> tuple[list[SSAValue], list[SSAValue]]:
    """The values a kernel reads and writes: buffers for a loop nest, SSA tensors for linalg."""
    if kernel.name != "loop.nest":
        return list(kernel.operands), list(kernel.results)
    body = list(kernel.walk())
    reads = [op.memref for op in body if op.name == "loop.load"]  # type: ignore[attr-defined]
    writes = [op.memref for op in body if op.name == "loop.store"]  # type: ignore[attr-defined]
    return reads, writes


def fusion_dot(module: ModuleOp) -> str:
    """The fusion report as Graphviz dot: nests as clusters of torch ops, data flow as edges."""
    lines = ["digraph fusion {", "  compound=true;", "  node [shape=box];"]
    for f in module.walk():
        if not isinstance(f, func.FuncOp) or f.is_declaration:
            continue
        kernels = _kernels(f)
        name = f.sym_name.data
        lines += [f"  subgraph cluster_{name} {{", f"    label={dot_string('@' + name)};"]
        parts_of = [[describe_part(p) for p in origin_parts(k.location)] for k in kernels]
        count: dict[str, int] = {}  # nests computing each op (a fill only initialises one)
        for kernel, parts in zip(kernels, parts_of):
            for p in set(parts) if _kind(kernel) != "fill" else ():
                count[p] = count.get(p, 0) + 1
        for k, (kernel, parts) in enumerate(zip(kernels, parts_of), 1):
            lines += [f"    subgraph cluster_{name}_{k} {{"]
            lines += [f"      label={dot_string(f'#{k} ({_kind(kernel)})')};"]
            for j, p in enumerate(parts or ["(no torch op recorded)"]):
                color = ", color=red, fontcolor=red" if count.get(p, 0) > 1 else ""
                lines.append(f"      {name}_{k}_{j} [label={dot_string(p)}{color}];")
            lines.append("    }")
        lines.append("  }")
        last_writer: dict[SSAValue, int] = {}
        edges: set[tuple[int, int]] = set()
        for k, kernel in enumerate(kernels, 1):
            reads, writes = _reads_writes(kernel)
            edges |= {(last_writer[v], k) for v in reads if last_writer.get(v, k) != k}
            last_writer.update((v, k) for v in writes)
        for src, dst in sorted(edges):
            lines.append(
                f"  {name}_{src}_0 -> {name}_{dst}_0 [ltail=cluster_{name}_{src}, "
                f"lhead=cluster_{name}_{dst}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"
