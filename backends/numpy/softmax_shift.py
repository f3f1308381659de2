"""Softmax without its max-subtraction pass, when the row maxima say it is exact enough.

Softmax is lowered as three nests: `m = max(v)` over the reduced dims (A), `e = exp(v - m)`
kept while `s = sum(e)` (B), and `e / s` (C). The shift by `m` only keeps `exp` in range: for
any per-row constant `m`, `e / s` is the same number. So when `e` and `s` are read nowhere but
in that quotient, B may compute `exp(v)` instead, one numpy pass fewer (the broadcast subtract
is also the slowest of the passes on short rows). The generated code checks the row maxima
first and keeps the shifted form for any block where they are out of range:

    if rt.shift_free(buf0[:, 0, None], 72.3):    # every row max in [-16, 72.3]
        np.exp(arg0, buf2)
    else:
        np.subtract(arg0, buf0[:, 0, None], buf2)
        np.exp(buf2, buf2)

Why the bounds (float32): with every row max `m` at most `hi = 80 - ln(n)` (n elements a
row), `exp(v) <= e^hi` and `s <= n * e^hi = e^80`, finite, and `1/s >= e^-80`, a normal number.
With `m >= -16`, `s >= e^m >= e^-16`, so `1/s <= e^16`: a term whose `exp(v)` underflows to a
subnormal (v < -87.3, where `exp(v - m)` might not) is off by at most half a subnormal ulp
(2^-150) times e^16 < 2^-126, below the smallest normal float32 — the flush-to-zero level.
Otherwise the result is at least as accurate as the shifted form (which also rounds `v - m`).
NaN, +inf and all -inf rows fail the check (NaN compares false) and take the shifted path,
which gives PyTorch's NaNs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xdsl.dialects import memref
from xdsl.dialects.arith import ConstantOp
from xdsl.ir import Operation, SSAValue

from xjit.backends.numpy.vectorize import NestPlan
from xjit.dialects.loop import PARALLEL, REDUCTION, LoadOp, NestOp, StoreOp

# Row maxima at least this (see the module docstring: underflow errors stay below FLT_MIN).
LO = -16.0
# ln of the largest sum the unshifted exp may reach: e^80 < FLT_MAX = e^88.7, 1/e^80 > FLT_MIN.
SUM_LOG_MAX = 80.0


@dataclass(frozen=True)
class Unshift:
    """B's `v - m` (`shifted`) may be read as `v` (`value`) when `rt.shift_free(m, hi)`."""

    shifted: SSAValue
    value: SSAValue
    row_max: LoadOp  # B's load of m: the guard reads its view
    hi: float


def find_unshifted(
    ops: list[Operation], plans: dict[Operation, NestPlan | str]
) -> dict[NestOp, Unshift]:
    """Nest B -> its `Unshift`, for every softmax-shaped (A, B, C) run among `ops`."""
    found: dict[NestOp, Unshift] = {}
    for i, op in enumerate(ops):
        plan = plans.get(op)
        if isinstance(op, NestOp) and isinstance(plan, NestPlan):
            u = _match(ops, i, plans)
            if u is not None:
                found[op] = u
    return found


def _sizes(nest: NestOp) -> tuple[int, ...] | None:
    out = []
    for b in nest.bounds:
        if not isinstance(b.owner, ConstantOp):
            return None
        out.append(b.owner.value.value.data)  # type: ignore[union-attr]
    return tuple(out)


def _key(op: LoadOp | StoreOp, nest: NestOp) -> tuple:
    """An access, comparable across nests with the same iteration space."""
    ivs = list(nest.ivs)
    idx = tuple(("iv", ivs.index(v)) if v in ivs else v for v in op.indices)
    return (op.memref, str(op.map.data), idx)


def _in(v: SSAValue, nest: NestOp) -> bool:
    owner = v.owner
    return isinstance(owner, Operation) and owner.parent_block() is nest.body.block


def _match(ops: list[Operation], i: int, plans: dict[Operation, NestPlan | str]) -> Unshift | None:
    b = ops[i]
    pb = plans[b]
    assert isinstance(b, NestOp) and isinstance(pb, NestPlan)
    if (
        pb.kind != REDUCTION
        or pb.contraction is not None
        or pb.combiner is None
        or pb.acc_load is None
        or pb.combiner.name != "arith.addf"
        or len(pb.extra_stores) != 1
    ):
        return None
    sizes = _sizes(b)
    if sizes is None:
        return None
    lhs, rhs = pb.combiner.operands
    e = rhs if lhs is pb.acc_load.result else lhs
    ex = e.owner
    keep = pb.extra_stores[0]
    if (
        not isinstance(ex, Operation)
        or ex.name != "math.exp"
        or not _in(e, b)
        or str(e.type) != "f32"
        or keep.value is not e
        or {u.operation for u in e.uses} != {pb.combiner, keep}
    ):
        return None
    sub = ex.operands[0].owner
    if not isinstance(sub, Operation) or sub.name != "arith.subf" or not _in(sub.results[0], b):
        return None
    if not sub.results[0].has_one_use():
        return None
    v, mv = sub.operands
    lm = mv.owner
    red = {p for p, k in enumerate(b.iterator_kinds) if k == REDUCTION}
    if not isinstance(lm, LoadOp) or not _in(mv, b) or not mv.has_one_use():
        return None
    if any(ax.iv in red or ax.gather for ax in pb.axes[lm]):
        return None  # m must be constant along the reduced dims (one value per row)
    n = math.prod(sizes[p] for p in red)
    if n < 1 or math.log(n) > SUM_LOG_MAX - 8:
        return None
    if not _row_max_of(ops, i, plans, v, lm):
        return None
    if not _only_divided(ops, i, plans, keep, pb.stores[0]):
        return None
    return Unshift(sub.results[0], v, lm, round(SUM_LOG_MAX - math.log(n), 3))


def _row_max_of(
    ops: list[Operation], i: int, plans: dict[Operation, NestPlan | str], v: SSAValue, lm: LoadOp
) -> bool:
    """True if the buffer `lm` reads was last written by a max-reduction A of `v` (the same
    values: a load with the same access, or A's own operand which A also stores where B's `v`
    loads it) over the same iteration space, with only fills of other buffers in between."""
    b = ops[i]
    assert isinstance(b, NestOp)
    vload = v.owner
    if not isinstance(vload, LoadOp) or not _in(v, b):
        return False
    guarded = {lm.memref, vload.memref}
    for j in range(i - 1, -1, -1):
        op = ops[j]
        if isinstance(op, ConstantOp | memref.AllocOp):
            continue
        if not isinstance(op, NestOp):
            return False
        pa = plans.get(op)
        if not isinstance(pa, NestPlan):
            return False
        if pa.fill is not None:
            if pa.stores[0].memref in guarded:
                return False
            continue
        break
    else:
        return False
    if (
        pa.kind != REDUCTION
        or pa.combiner is None
        or pa.acc_load is None
        or pa.combiner.name != "arith.maximumf"
        or _sizes(op) != _sizes(b)
        or list(op.iterator_kinds) != list(b.iterator_kinds)
        or _key(pa.stores[0], op)[1:] != _key(lm, b)[1:]
        or pa.stores[0].memref is not lm.memref
    ):
        return False
    x, y = pa.combiner.operands
    w = y if x is pa.acc_load.result else x
    wl = w.owner
    if isinstance(wl, LoadOp) and _in(w, op) and _key(wl, op) == _key(vload, b):
        return True  # A maximises the very values B shifts
    return any(st.value is w and _key(st, op) == _key(vload, b) for st in pa.extra_stores)


def _only_divided(
    ops: list[Operation],
    i: int,
    plans: dict[Operation, NestPlan | str],
    keep: StoreOp,
    acc: StoreOp,
) -> bool:
    """True if the kept `e` and the sum `s` are read only by one later nest C, as the quotient
    `e / s` element by element (e's and s's positions as B wrote them), and by nothing else but
    B itself and s's fill: then the per-row factor e^-m cancels."""
    b = ops[i]
    assert isinstance(b, NestOp)
    ebuf, sbuf = keep.memref, acc.memref
    if ebuf is sbuf or not all(isinstance(x.owner, memref.AllocOp) for x in (ebuf, sbuf)):
        return False
    others: set[Operation] = set()
    for buf in (ebuf, sbuf):
        for u in buf.uses:
            user = u.operation
            if isinstance(user, memref.DeallocOp):
                continue
            if not isinstance(user, LoadOp | StoreOp):
                return False
            nest = user.parent_op()
            if nest is b:
                continue
            if not isinstance(nest, NestOp) or nest.parent_block() is not b.parent_block():
                return False
            others.add(nest)
    fills = {n for n in others if isinstance(plans.get(n), NestPlan) and plans[n].fill is not None}
    rest = others - fills
    if len(rest) != 1 or any(ops.index(f) > i for f in fills if f in ops):
        return False
    if any(plans[f].stores[0].memref is not sbuf for f in fills):  # type: ignore[union-attr]
        return False
    (c,) = rest
    pc = plans.get(c)
    if c not in ops or ops.index(c) < i or not isinstance(pc, NestPlan) or pc.kind != PARALLEL:
        return False
    if _sizes(c) is None or _sizes(c) != _sizes(b):
        return False
    loads = [op for op in c.body.block.ops if isinstance(op, LoadOp | StoreOp)]
    le = [op for op in loads if op.memref is ebuf]
    ls = [op for op in loads if op.memref is sbuf]
    if (
        len(le) != 1
        or len(ls) != 1
        or not isinstance(le[0], LoadOp)
        or not isinstance(ls[0], LoadOp)
    ):
        return False
    le, ls = le[0], ls[0]
    if _key(le, c)[1:] != _key(keep, b)[1:] or _key(ls, c)[1:] != _key(acc, b)[1:]:
        return False
    if not (le.result.has_one_use() and ls.result.has_one_use()):
        return False
    div = next(iter(le.result.uses)).operation
    return div.name == "arith.divf" and list(div.operands) == [le.result, ls.result]
