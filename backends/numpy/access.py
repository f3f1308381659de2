"""`loop.load`/`loop.store` accesses seen as numpy views aligned to a nest's iteration space."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xdsl.dialects import arith, memref
from xdsl.dialects.builtin import MemRefType
from xdsl.ir import Operation, SSAValue
from xdsl.ir.affine import (
    AffineBinaryOpExpr,
    AffineBinaryOpKind,
    AffineConstantExpr,
    AffineDimExpr,
    AffineExpr,
)

from xjit.dialects.loop import LoadOp, NestOp, StoreOp


class NotVectorizable(Exception):
    """A nest the vectorizer cannot express with numpy; the message says why."""


@dataclass(frozen=True)
class Axis:
    """One buffer axis of an access: walks iteration dim `iv`, or is fixed at index `expr`."""

    iv: int | None = None
    expr: AffineExpr | None = None  # the fixed index, or with `iv` an offset added to it
    gather: bool = False  # `expr` reads an index computed in the nest body (W[idx[i], j])


def affine_src(expr: AffineExpr, operands: Sequence[str]) -> str:
    """Python source for an affine expression (floordiv/mod floor, like Python's // and %)."""
    if isinstance(expr, AffineDimExpr):
        return operands[expr.position]
    if isinstance(expr, AffineConstantExpr):
        return repr(expr.value)
    if isinstance(expr, AffineBinaryOpExpr):
        lhs, rhs = affine_src(expr.lhs, operands), affine_src(expr.rhs, operands)
        match expr.kind:
            case AffineBinaryOpKind.Add:
                return f"({lhs} + {rhs})"
            case AffineBinaryOpKind.Mul:
                return f"({lhs} * {rhs})"
            case AffineBinaryOpKind.FloorDiv:
                return f"({lhs} // {rhs})"
            case AffineBinaryOpKind.Mod:
                return f"({lhs} % {rhs})"
            case AffineBinaryOpKind.CeilDiv:
                return f"(-(-{lhs} // {rhs}))"
    raise NotVectorizable(f"affine expression {expr} is not supported")


def access_axes(op: LoadOp | StoreOp, nest: NestOp) -> list[Axis]:
    """Classify each buffer axis of an access, or raise if the map mixes loop dims."""
    ivpos = {iv: p for p, iv in enumerate(nest.ivs)}
    operand_iv = [ivpos.get(v) for v in op.indices]
    body = nest.body.block
    computed = [
        isinstance(v.owner, Operation) and v.owner.parent_block() is body for v in op.indices
    ]
    axes: list[Axis] = []
    amap = op.map.data
    for res in amap.results:
        if any(computed[d] for d in res.used_dims()):
            if not isinstance(res, AffineDimExpr):
                raise NotVectorizable(
                    f"{op.name} map {amap}: a computed index inside an expression"
                )
            axes.append(Axis(expr=res, gather=True))  # fancy indexing
        elif isinstance(res, AffineDimExpr) and operand_iv[res.position] is not None:
            axes.append(Axis(iv=operand_iv[res.position]))
        elif all(operand_iv[d] is None for d in res.used_dims()):
            axes.append(Axis(expr=res))  # depends only on values fixed for the whole nest
        elif (shifted := _shifted_iv(res, operand_iv)) is not None:
            axes.append(shifted)  # iv + offset: a slice starting at the offset
        else:
            raise NotVectorizable(
                f"{op.name} map {amap} has result {res}, not a loop dim (plus an offset): "
                "no numpy view"
            )
    ivs = [a.iv for a in axes if a.iv is not None]
    if len(set(ivs)) != len(ivs):
        raise NotVectorizable(f"{op.name} map {amap} reads a diagonal (a loop dim used twice)")
    return axes


def full_extent(buf: SSAValue, axis: int, bound: SSAValue) -> bool:
    """Is `bound` provably the size of `buf` along `axis` (so the view needs no slice)?"""
    t = buf.type
    assert isinstance(t, MemRefType)
    static = t.get_shape()[axis]
    owner = bound.owner
    if isinstance(owner, arith.ConstantOp):
        return static >= 0 and owner.value.value.data == static  # type: ignore[union-attr]
    if isinstance(owner, memref.DimOp) and owner.source == buf:
        idx = owner.index.owner
        return isinstance(idx, arith.ConstantOp) and idx.value.value.data == axis  # type: ignore[union-attr]
    alloc = buf.owner
    if isinstance(alloc, memref.AllocOp | memref.AllocaOp) and static < 0:
        k = sum(1 for d in t.get_shape()[:axis] if d < 0)  # position among the `?` sizes
        return alloc.dynamic_sizes[k] == bound
    return False


def _shifted_iv(res: AffineExpr, operand_iv: list[int | None]) -> Axis | None:
    if not (isinstance(res, AffineBinaryOpExpr) and res.kind == AffineBinaryOpKind.Add):
        return None
    for dim, off in ((res.lhs, res.rhs), (res.rhs, res.lhs)):
        if (
            isinstance(dim, AffineDimExpr)
            and operand_iv[dim.position] is not None
            and all(operand_iv[d] is None for d in off.used_dims())
        ):
            return Axis(iv=operand_iv[dim.position], expr=off)
    return None


def index_srcs(
    op: LoadOp | StoreOp, nest: NestOp, axes: Sequence[Axis], name: Callable[[SSAValue], str]
) -> list[str | None]:
    """The fixed index of each non-iv axis, as source (None for iv axes)."""
    ivs = set(nest.ivs)
    operands = ["" if v in ivs else name(v) for v in op.indices]
    out: list[str | None] = []
    for k, a in enumerate(axes):
        if a.iv is None:
            out.append(affine_src(a.expr, operands))  # type: ignore[arg-type]
        elif a.expr is None:
            bound = nest.bounds[a.iv]
            out.append(None if full_extent(op.memref, k, bound) else f":{name(bound)}")
        else:  # walks the iv from an offset: the slice [off, off + bound)
            off = affine_src(a.expr, operands)
            out.append(f"{off}:{off} + {name(nest.bounds[a.iv])}")
    return out


def _transpose_suffix(perm: Sequence[int]) -> str:
    if list(perm) == sorted(perm):
        return ""
    if len(perm) == 2:
        return ".T"
    if list(perm[:-2]) == list(range(len(perm) - 2)):
        return ".mT"  # swaps the last two axes only
    return f".transpose({', '.join(map(str, perm))})"


def _index(base: str, parts: list[str]) -> str:
    while parts and parts[-1] == ":":
        parts.pop()  # trailing full slices are implicit
    return f"{base}[{', '.join(parts)}]" if parts else base


def base_view(buf: str, idx: Sequence[str | None]) -> str:
    """`buf` with its fixed axes indexed away; remaining axes keep buffer order."""
    return _index(buf, [":" if s is None else s for s in idx])  # slices keep their axis


def aligned_view(
    buf: str, axes: Sequence[Axis], idx: Sequence[str | None], space: Sequence[int], trim: bool
) -> tuple[str, frozenset[int]]:
    """The cheapest view of `buf` whose axes follow the iteration dims `space` in order.

    Missing dims become `None` (broadcast); with `trim`, missing leading dims are left out,
    since numpy broadcasting prepends them. Returns the expression and the positions (in
    `space`) the view actually varies along.
    """
    pos = {p: q for q, p in enumerate(space)}
    qs = []
    for a in axes:
        if a.iv is not None:
            if a.iv not in pos:
                raise NotVectorizable("access walks a dim outside the target space")
            qs.append(pos[a.iv])
    present = frozenset(qs)
    first = min(present) if (trim and present) else 0
    if trim and not present:
        first = len(space)
    order = sorted(qs)
    if order == qs:  # no transpose: one indexing expression does everything
        parts: list[str] = []
        prev = first - 1
        for a, s in zip(axes, idx, strict=True):
            if a.iv is None:
                parts.append(s)  # type: ignore[arg-type]
                continue
            q = pos[a.iv]
            parts += ["None"] * (q - prev - 1) + [s or ":"]
            prev = q
        parts += ["None"] * (len(space) - prev - 1)
        return _index(buf, parts), present
    perm = [qs.index(q) for q in order]
    expr = base_view(buf, idx) + _transpose_suffix(perm)
    parts = ["None" if q not in present else ":" for q in range(first, len(space))]
    return _index(expr, parts), present


def arrange(view: str, dims: Sequence[int], wanted: Sequence[int]) -> str:
    """`view` (axes walking `dims`) with axes reordered to walk `wanted`."""
    return view + _transpose_suffix([list(dims).index(d) for d in wanted])
