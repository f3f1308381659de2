"""The type conversion of `convert-torch-to-linalg` and the base of its rewrite patterns.

torch-mlir's TorchToLinalg is the model (a `TypeConverter` and one `OpConversionPattern` per
op), on xDSL's pattern rewriter:

- `convert_type` is the type converter: `!torch.vtensor<[3,?],f32>` → `tensor<3x?xf32>`,
  `!torch.int` → `i64`, `!torch.float` → `f64`, `!torch.bool` → `i1`;
- every pattern derives from `TorchConversionPattern`: it reads its operands' builtin values
  (`lowered`, or `operand_arg` for the Python constants an op's lowering takes as such), builds
  builtin ops before the op, and replaces the op's results by *bridges*:
  `builtin.unrealized_conversion_cast %builtin : tensor<..> to !torch.vtensor<..>`, so the
  not-yet-converted users still see torch types;
- one forward walk (`PatternRewriteWalker`, not recursive) converts every op after the ops
  that define its operands (parents before their regions: a loop's body is converted after the
  loop has become an `scf.for` whose block arguments have builtin types);
- `erase_bridges` then drops the bridges, which no converted op uses any more, with the torch
  ops that only ever stood for Python values (`none`, lists, tuples). A bridge that still has a
  user means that user had no pattern: the pass fails naming it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from xdsl.builder import Builder, InsertPoint
from xdsl.dialects import arith
from xdsl.dialects.builtin import (
    DYNAMIC_INDEX,
    AnyFloat,
    FileLineColLoc,
    Float64Type,
    FloatAttr,
    IntegerAttr,
    IntegerType,
    NameLoc,
    TensorType,
    UnrealizedConversionCastOp,
    i1,
    i64,
)
from xdsl.ir import Attribute, Operation, SSAValue
from xdsl.pattern_rewriter import GreedyRewritePatternApplier, PatternRewriter, RewritePattern
from xdsl.rewriter import Rewriter
from xdsl.utils.exceptions import DiagnosticException

from xjit.dialects import torch as td
from xjit.ops.registry import UNKNOWN
from xjit.ops.types import DType

# -- the type converter ------------------------------------------------------------------------


def element_type(dt: DType) -> Attribute:
    """Builtin element type of a torch dtype: signedness lives in the ops, as in upstream MLIR."""
    a = td.dtype_attr(dt)
    if isinstance(a, IntegerType):
        return IntegerType(a.width.data)
    return a


@functools.lru_cache(maxsize=4096)  # types are immutable; building a TensorType is costly
def convert_type(t: Attribute) -> Attribute:
    if isinstance(t, td.ValueTensorType):
        meta = t.meta
        if meta.shape is None or meta.dtype is None:
            raise DiagnosticException(
                f"cannot lower {t}: rank and dtype must be known (run shape refinement first)"
            )
        dims = [DYNAMIC_INDEX if d is None else d for d in meta.shape]
        return TensorType(element_type(meta.dtype), dims)
    if isinstance(t, td.IntType):
        return i64
    if isinstance(t, td.FloatType):
        return Float64Type()
    if isinstance(t, td.BoolType):
        return i1
    raise DiagnosticException(f"cannot lower a value of type {t} to builtin types")


def is_torch_type(t: Attribute) -> bool:
    return getattr(t, "name", "").startswith("torch.")


# -- scalars -------------------------------------------------------------------------------------


def is_float(t: Attribute) -> bool:
    return isinstance(t, AnyFloat)


def scalar_constant(value: float | int | bool, ty: Attribute) -> arith.ConstantOp:
    if is_float(ty):
        # `create`: the IRDL builder's argument checks cost twice the op (one per scalar)
        return arith.ConstantOp.create(
            result_types=[ty], properties={"value": FloatAttr(float(value), ty)}
        )
    if ty == i1:  # a number as a bool: nonzero (NaN included) is true, as torch's .bool()
        value = bool(value)
    elif isinstance(ty, IntegerType) and not isinstance(value, bool):
        # torch refuses a number out of the tensor dtype's range (where(c, 2**31, int32 x))
        # rather than wrapping it; NaN and infinities cannot be converted either
        half = 1 << (ty.width.data - 1)
        if not (math.isfinite(value) and -half <= int(value) < half):
            raise DiagnosticException(
                f"value {value} cannot be converted to type {ty} without overflow"
            )
    return arith.ConstantOp.from_int_and_width(int(value), ty)  # type: ignore[arg-type]


def cast_scalar(b: Builder, v: SSAValue, to: Attribute) -> SSAValue:
    """Convert a scalar as torch's type promotion does (ints are signed; bools are 0/1)."""
    src = v.type
    if src == to:
        return v
    if is_float(src) and is_float(to):
        wider = src.bitwidth < to.bitwidth  # type: ignore[attr-defined]
        op: Operation = arith.ExtFOp(v, to) if wider else arith.TruncFOp(v, to)  # type: ignore[arg-type]
    elif isinstance(src, IntegerType) and is_float(to):
        op = arith.UIToFPOp(v, to) if src.width.data == 1 else arith.SIToFPOp(v, to)  # type: ignore[arg-type]
    elif is_float(src) and to == i1:  # nonzero (NaN included) is true, as torch's .bool()
        zero = b.insert(scalar_constant(0.0, src)).result
        op = arith.CmpfOp(v, zero, "une")
    elif is_float(src) and isinstance(to, IntegerType):
        op = arith.FPToSIOp(v, to)
    elif isinstance(src, IntegerType) and isinstance(to, IntegerType):
        if to.width.data == 1:
            zero = b.insert(arith.ConstantOp.from_int_and_width(0, src)).result
            op = arith.CmpiOp(v, zero, "ne")
        elif src.width.data < to.width.data:
            op = arith.ExtUIOp(v, to) if src.width.data == 1 else arith.ExtSIOp(v, to)
        else:
            op = arith.TruncIOp(v, to)
    else:
        raise DiagnosticException(f"cannot cast {src} to {to}")
    return b.insert(op).results[0]


# -- operands: through the bridges ----------------------------------------------------------------


def _bridged(v: SSAValue) -> SSAValue | None:
    """The builtin value behind a bridge, or None if `v` is not a bridge's result."""
    owner = v.owner
    if type(owner) is UnrealizedConversionCastOp and len(owner.operands) == 1:
        return owner.operands[0]
    return None


def lowered(v: SSAValue) -> SSAValue:
    """The builtin value standing for `v` (`v` itself if it already has a builtin type)."""
    if not is_torch_type(v.type):
        return v
    source = _bridged(v)
    if source is None:
        raise DiagnosticException(f"value {v} has no lowering")
    return source


def constant_of(v: SSAValue) -> Any:
    """`td._meta_or_const(v)` (what a shape rule sees), also for converted constants: a bridge
    of an `arith.constant` is its Python value."""
    source = _bridged(v)
    if source is not None:
        if isinstance(v.type, td.ValueTensorType):
            return v.type.meta
        owner = source.owner
        if isinstance(owner, arith.ConstantOp) and isinstance(owner.value, IntegerAttr | FloatAttr):
            value = owner.value.value.data
            return bool(value) if isinstance(v.type, td.BoolType) else value
        return UNKNOWN
    if isinstance(v.owner, td.PrimListConstructOp):
        values = [constant_of(e) for e in v.owner.elements]
        return UNKNOWN if any(x is UNKNOWN for x in values) else values
    return td._meta_or_const(v)


def operand_arg(v: SSAValue) -> Any:
    """An operand as a registry `lower` function takes it: a builtin tensor/scalar SSA value, a
    list of builtin tensors (`Tensor[]`), or a Python constant."""
    if isinstance(v.type, td.ValueTensorType):
        return lowered(v)
    owner = v.owner
    if isinstance(owner, td.PrimListConstructOp) and any(
        isinstance(e.type, td.ValueTensorType) for e in owner.elements
    ):
        return [lowered(e) for e in owner.elements]
    c = constant_of(v)
    if c is not UNKNOWN:
        return c
    return lowered(v)


# -- results: bridges ---------------------------------------------------------------------------


def _bridge(value: SSAValue, torch_type: Attribute) -> UnrealizedConversionCastOp:
    # `create`, not the IRDL builder: one bridge per converted value, and the builder's
    # argument checking made them a third of the pass's time.
    return UnrealizedConversionCastOp.create(operands=[value], result_types=[torch_type])


def replace_with_bridges(
    rewriter: PatternRewriter, op: Operation, values: Sequence[SSAValue]
) -> None:
    """Replace `op` by the builtin `values` of its results, each seen by `op`'s users through a
    bridge to the result's torch type."""
    bridges = []
    for r, n in zip(op.results, values, strict=True):
        expected = convert_type(r.type)
        if n.type != expected:
            raise DiagnosticException(
                f"lowering of {op.name} produced {n.type}, expected {expected}"
            )
        bridges.append(_bridge(n, r.type))
    rewriter.replace(op, bridges, [b.results[0] for b in bridges])


def bridge_to(value: SSAValue, torch_type: Attribute, at: InsertPoint) -> SSAValue:
    """A bridge of builtin `value` (a new block argument) back to `torch_type`, at `at`."""
    bridge = _bridge(value, torch_type)
    Builder(at).insert(bridge)
    return bridge.results[0]


class TorchConversionPattern(RewritePattern):
    """One torch op to builtin ops. Subclasses name the op classes they convert and implement
    `convert`, which builds the builtin values of the op's results with `b` (inserting before
    the op); the base replaces the op by them, through bridges."""

    op_types: ClassVar[tuple[type[Operation], ...]] = ()

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, self.op_types):
            values = self.convert(op, Builder(InsertPoint.before(op)))
            replace_with_bridges(rewriter, op, values)

    def convert(self, op: Any, b: Builder) -> Sequence[SSAValue]:
        raise NotImplementedError


@dataclass
class FirstErrorApplier(GreedyRewritePatternApplier):
    """Applies the first matching pattern; the first error stops the conversion and is kept
    for the pass to raise as it is (the walker would wrap it in a dump of the module)."""

    error: Exception | None = field(default=None, init=False)

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if self.error is not None:
            return
        try:
            super().match_and_rewrite(op, rewriter)
        except DiagnosticException as e:  # the user's line, where the op came from one
            where = _file_loc(op.location) or _first_unknown_rank(op)
            self.error = DiagnosticException(f"{where}: {e}") if where else e
        except Exception as e:  # noqa: BLE001  (re-raised by the pass)
            self.error = e


def _first_unknown_rank(op: Operation) -> str | None:
    """Where the first value of unknown rank or dtype inside `op` (a function) is made."""
    for o in op.walk():
        for r in o.results:
            t = r.type
            if isinstance(t, td.ValueTensorType) and (t.sizes is None or t.element_dtype is None):
                where = _file_loc(o.location)
                if where:
                    return where
    return None


def _file_loc(loc: Attribute | None) -> str | None:
    """file:line:col of an op's location (inside a NameLoc of a decomposition too)."""
    while isinstance(loc, NameLoc):
        loc = loc.location
    if isinstance(loc, FileLineColLoc):
        return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}"
    return None


# Torch ops that stand for Python values only (their users take them as constants): erased
# with the bridges once nothing uses them.
PYTHON_VALUE_OPS = (
    td.ConstantNoneOp,
    td.ConstantStrOp,
    td.PrimListConstructOp,
    td.PrimTupleConstructOp,
)


class OpLoweringError(DiagnosticException):
    """A lowering failure that carries the op it could not handle, so tools point at its line
    (xjit-opt locates `op` in its input)."""

    def __init__(self, message: str, op: Operation) -> None:
        super().__init__(message)
        self.op = op


def erase_bridges(ops: Sequence[Operation]) -> None:
    """Erase the bridges and Python-value ops among `ops` (in IR order), users first; fail on
    a torch op that is still used, i.e. one whose user no pattern converted."""
    for op in reversed(ops):
        if isinstance(op, PYTHON_VALUE_OPS) or (
            isinstance(op, UnrealizedConversionCastOp) and is_torch_type(op.results[0].type)
        ):
            users = [u.operation for r in op.results for u in r.uses]
            if users:
                raise OpLoweringError(
                    f"convert-torch-to-linalg: cannot lower '{users[0].name}'", users[0]
                )
            Rewriter.erase_op(op)
