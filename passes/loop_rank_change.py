"""A `torch.prim.Loop` whose carried tensor changes rank between iterations
(`for _ in range(3): x = x.unsqueeze(0)`), found by shape refinement once the argument types
are known. TorchScript's Tensor type has no rank, so it accepts the loop; here every value needs
one rank. With a constant trip count (and no early exit) the loop is unrolled, each copy of the
body getting its own types; otherwise the rank after the loop is unknowable and the loop is
refused at its source line, saying why.
"""

from __future__ import annotations

from xdsl.dialects.builtin import FileLineColLoc, NameLoc
from xdsl.ir import Attribute, Operation, OpResult, SSAValue
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException

from xjit.dialects import torch as td

MAX_UNROLL = 256  # as the script frontend's unrolling of constant ranges


def rank(t: Attribute) -> int | None:
    if isinstance(t, td.ValueTensorType) and t.sizes is not None:
        return len(t.sizes)
    return None


def rank_changes(inits: list[Attribute], yielded: list[Attribute]) -> dict[int, tuple[int, int]]:
    """Carried values whose rank after an iteration differs from their rank before the loop."""
    out = {}
    for i, (a, b) in enumerate(zip(inits, yielded, strict=True)):
        ra, rb = rank(a), rank(b)
        if ra is not None and rb is not None and ra != rb:
            out[i] = (ra, rb)
    return out


def unroll(
    op: td.PrimLoopOp,
) -> tuple[list[tuple[Operation, Operation]], list[SSAValue | tuple[Operation, int]]] | None:
    """Copies of the body before `op`, one per iteration: (copy, original) pairs in order, and
    what the loop's results become: a value from before the loop, or (copy, result index) (a
    copy's results are new values once refinement retypes them). None if the trip count is not
    a constant (at most MAX_UNROLL) or the loop may stop early."""
    trip = td._meta_or_const(op.operands[0])
    blk = op.body.block
    term = blk.last_op
    assert isinstance(term, td.PrimLoopConditionOp)
    if (
        not isinstance(trip, int)
        or isinstance(trip, bool)
        or trip > MAX_UNROLL
        or td._meta_or_const(op.operands[1]) is not True
        or td._meta_or_const(term.operands[0]) is not True
    ):
        return None
    pairs: list[tuple[Operation, Operation]] = []
    carried = list(op.operands[2:])
    for k in range(max(trip, 0)):
        index = td.ConstantIntOp(k)
        Rewriter.insert_op(index, InsertPoint.before(op))
        vm: dict[SSAValue, SSAValue] = {blk.args[0]: index.result}
        vm.update(zip(blk.args[1:], carried, strict=True))
        for inner in blk.ops:
            if inner is term:
                break
            copy = inner.clone(value_mapper=vm)
            Rewriter.insert_op(copy, InsertPoint.before(op))
            pairs.append((copy, inner))
        carried = [vm.get(v, v) for v in term.operands[1:]]
    copies = {c for c, _ in pairs}
    return pairs, [
        (v.op, v.index) if isinstance(v, OpResult) and v.op in copies else v for v in carried
    ]


def refusal(op: td.PrimLoopOp, changes: dict[int, tuple[int, int]]) -> DiagnosticException:
    i, (before, after) = next(iter(changes.items()))
    loc = op.location
    while isinstance(loc, NameLoc):
        loc = loc.location
    where = (
        f"{loc.filename.data}:{loc.line.data}:{loc.column.data}: "
        if isinstance(loc, FileLineColLoc)
        else ""
    )
    return DiagnosticException(
        f"{where}unsupported: loop-carried value {i} has rank {before} before the loop and rank "
        f"{after} after an iteration; with a trip count known only at run time (or a loop "
        "that may stop early) its rank after the loop is unknowable, and xjit needs one rank "
        "per value (TorchScript's Tensor has none): use a constant trip count, which is unrolled"
    )
