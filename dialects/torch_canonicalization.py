"""Canonicalization patterns of the torch dialect, run by upstream `canonicalize`.

They are generic over the op registry: an entry declares algebraic facts in its `attrs`
(`identity=("other", 0)`: `x + 0 → x`; `involution=True`: `t(t(x)) → x`), and one pattern here
applies each kind of fact to every op that declares it. A rewrite only happens when the
replacement has exactly the result's type, so no shape or dtype information is lost.

The patterns are built on the dialect's op classes, so the dialect does not import them: they
register themselves with its canonicalization traits when this module is imported, which
`xjit.dialects` does whenever it loads the torch dialect (`make_context`, the xdsl universe).
"""

from __future__ import annotations

import math

from xdsl.ir import Operation
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.rewriter import InsertPoint

from xjit.dialects import torch as td
from xjit.ops.registry import UNKNOWN


class FoldIdentityOperand(RewritePattern):
    """`op(x, unit) → x` for ops whose entry declares `identity=(arg, unit)` (x + 0, x * 1, ...)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, td.AtenOp) or "identity" not in op.OPDEF.attrs:
            return
        arg, unit = op.OPDEF.attrs["identity"]
        names = [a.name for a in op.OPDEF.schema.args]
        value = td._meta_or_const(op.operands[names.index(arg)])
        if value is UNKNOWN or isinstance(value, bool) or value != unit:
            return
        if "alpha" in names:
            alpha = td._meta_or_const(op.operands[names.index("alpha")])
            # x - 0 * inf is NaN, not x
            if alpha is UNKNOWN or not math.isfinite(alpha):
                return
        x = op.operands[0]
        # an unrefined `!torch.vtensor` (a scripted graph before specialization) says nothing
        # of the dtype, which the unit may still promote (int32 * 1.0 is float32)
        meta = td._meta_or_const(x)
        if meta is UNKNOWN or meta.dtype is None or x.type != op.results[0].type:
            return
        if op.OPDEF.schema.name == "add" and meta.dtype.is_floating_point:
            return  # -0.0 + 0 is +0.0: not x
        rewriter.replace(op, [], [x])


class FoldInvolution(RewritePattern):
    """`f(f(x)) → x` for ops whose entry declares `involution=True` (t, neg)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, td.AtenOp) or not op.OPDEF.attrs.get("involution"):
            return
        inner = op.operands[0].owner
        if type(inner) is not type(op):
            return
        x = inner.operands[0]  # type: ignore[union-attr]
        if x.type == op.results[0].type:
            rewriter.replace(op, [], [x])


def materialize_constant(value: object) -> Operation:
    """A `torch.constant.*` op for a folded scalar."""
    if isinstance(value, bool):
        return td.ConstantBoolOp(value)
    if isinstance(value, int):
        return td.ConstantIntOp(value)
    assert isinstance(value, float)
    return td.ConstantFloatOp(value)


class FoldScalarOp(RewritePattern):
    """Ops with a `fold` in their entry (scalar ops of xjit/ops/scalar_ops.py) whose operands are
    constants (or, for `size.int`/`dim`, static shapes): replaced by a `torch.constant.*`."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, td.AtenOp) or op.OPDEF.fold is None or len(op.results) != 1:
            return
        value = op.OPDEF.fold(*(td._meta_or_const(v) for v in op.operands))
        if value is None:
            return
        const = materialize_constant(value)
        if const.results[0].type != op.results[0].type:
            return
        const.location = op.location
        rewriter.replace(op, [const])


class FoldConstantIf(RewritePattern):
    """`torch.prim.If` on a constant condition: the taken branch, inlined in place."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, td.PrimIfOp):
            return
        cond = td._meta_or_const(op.condition)
        if not isinstance(cond, bool):
            return
        block = (op.then_region if cond else op.else_region).block
        term = block.last_op
        assert isinstance(term, td.PrimIfYieldOp)
        values = list(term.results_)
        rewriter.erase_op(term)
        rewriter.inline_block(block, InsertPoint.before(op))
        rewriter.replace(op, [], values)


PATTERNS: tuple[RewritePattern, ...] = (FoldIdentityOperand(), FoldInvolution(), FoldScalarOp())
IF_PATTERNS: tuple[RewritePattern, ...] = (FoldConstantIf(),)
td.TorchCanonicalization.patterns = PATTERNS
td.PrimIfCanonicalization.patterns = IF_PATTERNS
