"""The fusion report (in the spirit of numba's parallel diagnostics): which torch ops ended up in
each loop nest, with their Python source lines when the frontend recorded them, and why the
remaining producer→consumer edges were not fused.

Provenance travels in op locations (`loc("aten.tanh"("model.py":12:8))`, fused ops
`loc(fused[...])`, set by convert-torch-to-linalg and linalg-fuse-elementwise, kept by bufferize
and convert-linalg-to-loop); the reasons come from the `FusionLog` the fusion pass fills when
run under `collect_fusion_log()`.

    xjit-opt model.mlir -p torch-to-loops --fusion-report      (report on stderr)
    compiled.fusion_report()                                   (CompiledFunction)
"""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from xjit.passes.linalg_fuse_elementwise import FusionLog, describe_part, origin_parts


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
            lines.append(f"  #{k} ({_kind(op)}):")
            for p in parts or ["(no torch op recorded)"]:
                first = seen.setdefault(p, k)
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
