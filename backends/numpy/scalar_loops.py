"""The fallback: a `loop.nest` as plain Python loops over numpy scalars.

Slow but exact (loads and stores happen in program order, per iteration), so nests the
vectorizer cannot express still run correctly; the caller warns about them.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.dialects.arith import ConstantOp
from xdsl.ir import SSAValue

from xjit.backends.numpy.access import affine_src
from xjit.backends.numpy.dtypes import constant_src
from xjit.backends.numpy.scalar_ops import op_expr
from xjit.dialects.loop import LoadOp, NestOp, StoreOp, YieldOp


def scalar_loops(
    nest: NestOp,
    name: Callable[[SSAValue], str],
    fresh: Callable[[str], str],
    scalar: Callable[[SSAValue], bool] = lambda v: False,
) -> list[str]:
    """Lines (relative indentation) of nested `for` loops executing `nest` element by element.
    `scalar(buf)`: a 0-d buffer held as a Python variable (read and assigned by name)."""
    local: dict[SSAValue, str] = {}

    def src(v: SSAValue) -> str:
        return local[v] if v in local else name(v)

    head: list[str] = []
    for iv in nest.ivs:
        local[iv] = fresh("i")
    body: list[str] = []
    for op in nest.body.block.ops:
        if isinstance(op, YieldOp):
            continue
        if isinstance(op, ConstantOp):  # hoisted: built once, not per iteration
            local[op.result] = fresh("c")
            head.append(f"{local[op.result]} = {constant_src(op.value)}")
            continue
        if isinstance(op, LoadOp | StoreOp):
            operands = [src(v) for v in op.indices]
            idx = ", ".join(affine_src(r, operands) for r in op.map.data.results)
            ref = src(op.memref) if scalar(op.memref) else f"{src(op.memref)}[{idx or '()'}]"
            if isinstance(op, StoreOp):
                body.append(f"{ref} = {src(op.value)}")
                continue
            text = ref
        else:
            text = op_expr(op, [src(o) for o in op.operands]).text
        local[op.results[0]] = fresh("s")
        body.append(f"{local[op.results[0]]} = {text}")
    lines = list(head)
    for depth, (iv, bound) in enumerate(zip(nest.ivs, nest.bounds, strict=True)):
        lines.append("    " * depth + f"for {local[iv]} in range({name(bound)}):")
    indent = "    " * len(nest.ivs)
    lines += [indent + line for line in body] or [indent + "pass"]
    return lines
