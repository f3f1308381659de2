"""The control-flow and scalar patterns of `convert-torch-to-linalg` (passes/
torch_type_conversion.py explains the patterns and their bridges).

- `torch.prim.If` -> `scf.if` with results (builtin types);
- `torch.prim.Loop` -> `scf.for` when it is a for-loop (initial condition and body condition
  both the constant `true`): `0 to index_cast(max_trip_count) step 1`, the induction variable
  cast back to `i64` for the body; otherwise `scf.while` carrying the `i64` iteration index and
  the continue flag besides the loop-carried values (TorchScript semantics: run while
  `index < max_trip_count and condition`). The loop becomes its `scf` op first, its body moved
  into the new body block (builtin block arguments, seen through bridges), so the body's ops
  are converted afterwards, knowing the loop they are in; the terminators convert last;
- scalar ops on `!torch.int/float/bool` (`i64`/`f64`/`i1`) -> `arith` (Python semantics: `//` and
  `%` floor, comparisons of floats are false on NaN except `!=`);
- tensor -> scalar: `aten.size.int` -> `tensor.dim` + `arith.index_cast`, `aten.dim` -> a
  constant, `aten.Bool/Int/Float.Tensor` -> `tensor.extract` of the single element + a cast;
- `prim.TupleUnpack` of a `TupleConstruct`, `prim.ListUnpack` of a `ListConstruct`: their
  elements (the constructs themselves are erased with the bridges).

`func.call` is not lowered: the `inline` pass runs before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from xdsl.builder import Builder, InsertPoint
from xdsl.dialects import arith, cf, math, scf, tensor
from xdsl.dialects.builtin import (
    FileLineColLoc,
    Float64Type,
    IndexType,
    IntegerAttr,
    IntegerType,
    TensorType,
    i1,
    i64,
)
from xdsl.ir import Block, Operation, SSAValue
from xdsl.pattern_rewriter import PatternRewriter, RewritePattern
from xdsl.utils.exceptions import DiagnosticException

from xjit.dialects import torch as td
from xjit.dialects.arith_ext import RemFOp
from xjit.errors import RAISE_PREFIX, script_str
from xjit.ops.registry import UNKNOWN
from xjit.ops.types import TensorMeta
from xjit.passes.torch_type_conversion import (
    TorchConversionPattern,
    bridge_to,
    cast_scalar,
    constant_of,
    convert_type,
    lowered,
    scalar_constant,
)

# -- structured control flow --------------------------------------------------------------------


def _is_true_constant(v: SSAValue) -> bool:
    return constant_of(v) is True


def as_index(b: Builder, v: SSAValue) -> SSAValue:
    """An i64 as `index` (the value itself if it was cast from one)."""
    owner = v.owner
    if isinstance(owner, arith.IndexCastOp) and isinstance(owner.input.type, IndexType):
        return owner.input
    return b.insert(arith.IndexCastOp(v, IndexType())).result


def _index_constant(b: Builder, value: int) -> SSAValue:
    return b.insert(arith.ConstantOp(IntegerAttr(value, IndexType()))).result


def _move_body(old: Block, new: Block, iv: SSAValue | None) -> None:
    """Move `old`'s ops into `new`, whose arguments (after the first if `iv` is given, which
    then stands for `old`'s first) are builtin: `old`'s arguments become bridges of them."""
    first = 0 if iv is None else 1
    stand_ins = [] if iv is None else [bridge_to(iv, old.args[0].type, InsertPoint.at_end(new))]
    for a, n in zip(old.args[first:], new.args[first:], strict=True):
        n.name_hint = a.name_hint
        stand_ins.append(bridge_to(n, a.type, InsertPoint.at_end(new)))
    for a, v in zip(old.args, stand_ins, strict=True):
        a.replace_all_uses_with(v)
    for op in list(old.ops):
        op.detach()
        new.add_op(op)


def _name_results(old: Sequence[SSAValue], new: Sequence[SSAValue]) -> Sequence[SSAValue]:
    for r, n in zip(old, new, strict=True):
        n.name_hint = r.name_hint
    return new


class IfConversion(TorchConversionPattern):
    op_types = (td.PrimIfOp,)

    def convert(self, op: td.PrimIfOp, b: Builder) -> Sequence[SSAValue]:
        types = [convert_type(r.type) for r in op.results_]
        regions = []
        for region in (op.then_region, op.else_region):
            block = Block()
            _move_body(region.block, block, None)
            regions.append([block])
        new = b.insert(scf.IfOp(lowered(op.condition), types, regions[0], regions[1]))
        return _name_results(op.results_, new.results)


class IfYieldConversion(RewritePattern):
    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, td.PrimIfYieldOp):
            rewriter.replace(op, scf.YieldOp(*[lowered(v) for v in op.results_]))


class LoopConversion(TorchConversionPattern):
    op_types = (td.PrimLoopOp,)

    def convert(self, op: td.PrimLoopOp, b: Builder) -> Sequence[SSAValue]:
        body = op.body.block
        term = body.last_op
        assert isinstance(term, td.PrimLoopConditionOp)
        if _is_true_constant(op.initial_condition) and _is_true_constant(term.should_continue):
            return _name_results(op.results_, self._for(op, b))
        return _name_results(op.results_, self._while(op, b))

    @staticmethod
    def _for(op: td.PrimLoopOp, b: Builder) -> Sequence[SSAValue]:
        """for i in range(n): scf.for over index, i64 inside."""
        body = op.body.block
        inits = [lowered(v) for v in op.iter_args_init]
        carried_types = [convert_type(v.type) for v in op.iter_args_init]
        ub = as_index(b, lowered(op.max_trip_count))
        lb, step = _index_constant(b, 0), _index_constant(b, 1)
        new_body = Block(arg_types=[IndexType(), *carried_types])
        iv = body.args[0]
        new_body.args[0].name_hint = (iv.name_hint or "i") + "_index"
        index = Builder(InsertPoint.at_end(new_body)).insert(
            arith.IndexCastOp(new_body.args[0], i64)
        )
        index.result.name_hint = iv.name_hint
        _move_body(body, new_body, index.result)
        return b.insert(scf.ForOp(lb, ub, step, inits, new_body)).results

    @staticmethod
    def _while(op: td.PrimLoopOp, b: Builder) -> Sequence[SSAValue]:
        """while: state (index, continue, carried...); before: index < max and continue."""
        inits = [lowered(v) for v in op.iter_args_init]
        carried_types = [convert_type(v.type) for v in op.iter_args_init]
        max_trip = lowered(op.max_trip_count)
        zero = b.insert(arith.ConstantOp.from_int_and_width(0, i64)).result
        init_cond = lowered(op.initial_condition)
        before = Block(arg_types=[i64, i1, *carried_types])
        bb = Builder(InsertPoint.at_end(before))
        below = bb.insert(arith.CmpiOp(before.args[0], max_trip, "slt")).result
        go = bb.insert(arith.AndIOp(below, before.args[1])).result
        bb.insert(scf.ConditionOp(go, before.args[0], *before.args[2:]))
        after = Block(arg_types=[i64, *carried_types])
        after.args[0].name_hint = op.body.block.args[0].name_hint
        _move_body(op.body.block, after, after.args[0])
        new = b.insert(
            scf.WhileOp([zero, init_cond, *inits], [i64, *carried_types], [before], [after])
        )
        return new.results[1:]


class LoopConditionConversion(RewritePattern):
    """The body's terminator: `scf.yield` of the carried values (in an `scf.while`, after the
    next index and the continue flag)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, td.PrimLoopConditionOp):
            return
        carried = [lowered(v) for v in op.iter_args]
        if isinstance(op.parent_op(), scf.ForOp):
            rewriter.replace(op, scf.YieldOp(*carried))
            return
        index = op.parent_block().args[0]  # type: ignore[union-attr]
        one = arith.ConstantOp.from_int_and_width(1, i64)
        nxt = arith.AddiOp(index, one)
        go = lowered(op.should_continue)
        rewriter.replace(op, [one, nxt, scf.YieldOp(nxt, go, *carried)], [])


class UnpackConversion(RewritePattern):
    """`prim.TupleUnpack`/`ListUnpack` of a construct in this function: its elements."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if isinstance(op, td.PrimTupleUnpackOp):
            owner = op.tup.owner
            if not isinstance(owner, td.PrimTupleConstructOp):
                raise DiagnosticException(f"value {op.tup} has no lowering")
            rewriter.replace(op, [], list(owner.elements))
        elif isinstance(op, td.PrimListUnpackOp):
            owner = op.lst.owner
            if not isinstance(owner, td.PrimListConstructOp) or len(owner.elements) != len(
                op.results_
            ):
                raise DiagnosticException(
                    "convert-torch-to-linalg: torch.prim.ListUnpack of a list not built by a "
                    "torch.prim.ListConstruct of the same length"
                )
            for v in owner.elements:
                lowered(v)  # a list of values that have a lowering
            rewriter.replace(op, [], list(owner.elements))


# -- scalar ops -----------------------------------------------------------------------------------

_CMPI = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq", "ne": "ne"}
# Python's float comparisons: false on NaN, except `!=`.
_CMPF = {"lt": "olt", "le": "ole", "gt": "ogt", "ge": "oge", "eq": "oeq", "ne": "une"}
_INT_BIN: dict[str, type[Operation]] = {
    "add": arith.AddiOp,
    "sub": arith.SubiOp,
    "mul": arith.MuliOp,
    "floordiv": arith.FloorDivSIOp,
}
_FLOAT_BIN: dict[str, type[Operation]] = {
    "add": arith.AddfOp,
    "sub": arith.SubfOp,
    "mul": arith.MulfOp,
    "div": arith.DivfOp,
}


def _const(b: Builder, value: Any, ty: Any) -> SSAValue:
    return b.insert(scalar_constant(value, ty)).result


def _remainder(b: Builder, x: SSAValue, y: SSAValue) -> SSAValue:
    """Python's `%` on ints: the result has the divisor's sign (`remsi` has the dividend's)."""
    r = b.insert(arith.RemSIOp(x, y)).result
    zero = _const(b, 0, i64)
    nonzero = b.insert(arith.CmpiOp(r, zero, "ne")).result
    r_neg = b.insert(arith.CmpiOp(r, zero, "slt")).result
    y_neg = b.insert(arith.CmpiOp(y, zero, "slt")).result
    differ = b.insert(arith.XOrIOp(r_neg, y_neg)).result
    fix = b.insert(arith.AndIOp(nonzero, differ)).result
    fixed = b.insert(arith.AddiOp(r, y)).result
    return b.insert(arith.SelectOp(fix, fixed, r)).result


def _to_bool(b: Builder, v: SSAValue) -> SSAValue:
    """Python's bool(): nonzero is true (NaN included)."""
    if v.type == i1:
        return v
    if isinstance(v.type, IntegerType):
        return b.insert(arith.CmpiOp(v, _const(b, 0, v.type), "ne")).result
    return b.insert(arith.CmpfOp(v, _const(b, 0.0, v.type), "une")).result


def _single_element(b: Builder, t: SSAValue, what: str) -> SSAValue:
    tt = t.type
    assert isinstance(tt, TensorType)
    if any(d != 1 for d in tt.get_shape()):
        raise DiagnosticException(
            f"convert-torch-to-linalg: {what} of a {tt}: only tensors with static shape of one "
            "element convert to a scalar"
        )
    zero = [_index_constant(b, 0) for _ in tt.get_shape()]
    return b.insert(tensor.ExtractOp(t, zero, tt.get_element_type())).result


def _size(b: Builder, op: td.AtenOp) -> SSAValue:
    t = lowered(op.operands[0])
    dim = constant_of(op.operands[1])
    if not isinstance(dim, int):
        raise DiagnosticException("convert-torch-to-linalg: aten.size.int with a run-time dim")
    rank = t.type.get_num_dims()
    if not -rank <= dim < rank:
        raise DiagnosticException(
            f"convert-torch-to-linalg: dim {dim} out of range for rank {rank}"
        )
    d = b.insert(tensor.DimOp(t, _index_constant(b, dim % rank))).result
    return b.insert(arith.IndexCastOp(d, i64)).result


def lower_scalar_aten(b: Builder, op: td.AtenOp) -> SSAValue:
    """An aten op registered with `attrs={"scalar": True}` (xjit/ops/scalar_ops.py)."""
    qualified = op.OPDEF.schema.qualified_name  # e.g. "aten.add.int"
    parts = qualified.split(".")
    base, overload = parts[1], (parts[2] if len(parts) > 2 else "")

    def val(i: int) -> SSAValue:
        return lowered(op.operands[i])

    def ins(o: Operation) -> SSAValue:
        return b.insert(o).results[0]

    result: SSAValue
    if base in ("floordiv", "remainder") and overload == "int":  # Python raises on a zero divisor
        ok = ins(arith.CmpiOp(val(1), _const(b, 0, i64), "ne"))
        what = "division" if base == "floordiv" else "modulo"
        b.insert(cf.AssertOp(ok, f"ZeroDivisionError: integer {what} by zero"))
    if base in _INT_BIN and overload == "int":
        result = ins(_INT_BIN[base](val(0), val(1)))  # type: ignore[call-arg]
    elif base in _FLOAT_BIN and overload == "float":
        result = ins(_FLOAT_BIN[base](val(0), val(1)))  # type: ignore[call-arg]
    elif qualified == "aten.remainder.int":
        result = _remainder(b, val(0), val(1))
    elif qualified == "aten.neg.int":
        result = ins(arith.SubiOp(_const(b, 0, i64), val(0)))
    elif qualified == "aten.neg.float":
        result = ins(arith.NegfOp(val(0)))
    elif base in _CMPI and overload in ("int", "bool"):
        result = ins(arith.CmpiOp(val(0), val(1), _CMPI[base]))
    elif base in _CMPI and overload == "float":
        result = ins(arith.CmpfOp(val(0), val(1), _CMPF[base]))
    elif qualified == "aten.__not__":
        result = ins(arith.XOrIOp(val(0), _const(b, 1, i1)))
    elif qualified == "aten.__and__.bool":
        result = ins(arith.AndIOp(val(0), val(1)))
    elif qualified == "aten.__or__.bool":
        result = ins(arith.OrIOp(val(0), val(1)))
    elif qualified == "aten.Float.int":
        result = ins(arith.SIToFPOp(val(0), Float64Type()))
    elif qualified == "aten.Int.float":
        result = ins(arith.FPToSIOp(val(0), i64))  # truncates toward zero, like int()
    elif qualified == "aten.Int.bool":
        result = ins(arith.SelectOp(val(0), _const(b, 1, i64), _const(b, 0, i64)))
    elif qualified in ("aten.Bool.int", "aten.Bool.float"):
        result = _to_bool(b, val(0))
    elif qualified == "aten.size.int":
        result = _size(b, op)
    elif qualified == "aten.dim":
        result = _const(b, lowered(op.operands[0]).type.get_num_dims(), i64)
    elif qualified == "aten.numel":
        t = lowered(op.operands[0])
        result = _const(b, 1, i64)
        for k in range(t.type.get_num_dims()):
            d = ins(tensor.DimOp(t, _index_constant(b, k)))
            result = ins(arith.MuliOp(result, ins(arith.IndexCastOp(d, i64))))
    elif overload == "float" and (base in _MATH_FLOAT or base in _MATH_FLOAT_BINARY):
        result = _math_float(b, base, [val(i) for i in range(len(op.operands))])
    elif qualified in _TENSOR_TO_SCALAR:
        ty, what = _TENSOR_TO_SCALAR[qualified]
        element = _single_element(b, val(0), what)
        result = _to_bool(b, element) if ty() == i1 else cast_scalar(b, element, ty())
    else:
        raise DiagnosticException(f"convert-torch-to-linalg: no lowering for scalar op '{op.name}'")
    if not result.name_hint:
        result.name_hint = op.results[0].name_hint
    return result


# math.* on floats (xjit/ops/scalar_ops.py): one `math` op each; the others in `_math_float`.
_MATH_FLOAT: dict[str, type[Operation]] = {
    "sqrt": math.SqrtOp,
    "exp": math.ExpOp,
    "expm1": math.ExpM1Op,
    "log": math.LogOp,
    "log10": math.Log10Op,
    "log1p": math.Log1pOp,
    "sin": math.SinOp,
    "cos": math.CosOp,
    "tan": math.TanOp,
    "asin": math.AsinOp,
    "acos": math.AcosOp,
    "atan": math.AtanOp,
    "sinh": math.SinhOp,
    "cosh": math.CoshOp,
    "tanh": math.TanhOp,
    "asinh": math.AsinhOp,
    "acosh": math.AcoshOp,
    "atanh": math.AtanhOp,
    "fabs": math.AbsFOp,
    "round": math.RoundEvenOp,
    "floor": math.FloorOp,  # then to int
    "ceil": math.CeilOp,
    "isnan": None,
    "isinf": None,
    "isfinite": None,
}  # type: ignore[dict-item]
_MATH_FLOAT_BINARY: dict[str, type[Operation] | None] = {
    "atan2": math.Atan2Op,
    "copysign": math.CopySignOp,
    "fmod": RemFOp,  # C fmod
    "pow": math.PowFOp,
    "remainder": None,
    "floordiv": None,
}


def _math_float(b: Builder, base: str, args: list[SSAValue]) -> SSAValue:
    """A `math.*` / float `%` `//` scalar op (TorchScript's formulas, scalar_ops.py)."""

    def ins(o: Operation) -> SSAValue:
        return b.insert(o).results[0]

    if base in ("isnan", "isinf", "isfinite"):
        (a,) = args
        if base == "isnan":
            return ins(arith.CmpfOp(a, a, "une"))
        inf = _const(b, float("inf"), Float64Type())
        return ins(arith.CmpfOp(ins(math.AbsFOp(a)), inf, "oeq" if base == "isinf" else "olt"))
    if base == "remainder":  # fmod(b + fmod(a, b), b): the divisor's sign
        x, y = args
        return ins(RemFOp(ins(arith.AddfOp(y, ins(RemFOp(x, y)))), y))
    if base == "floordiv":  # floor(a / b)
        return ins(math.FloorOp(ins(arith.DivfOp(*args))))
    if base in _MATH_FLOAT_BINARY:
        return ins(_MATH_FLOAT_BINARY[base](*args))  # type: ignore[misc]
    r = ins(_MATH_FLOAT[base](*args))
    return ins(arith.FPToSIOp(r, i64)) if base in ("floor", "ceil") else r


_TENSOR_TO_SCALAR: dict[str, tuple[Callable[[], Any], str]] = {
    "aten.Bool.Tensor": (lambda: i1, "bool()"),
    "aten.Int.Tensor": (lambda: i64, "int()"),
    "aten.Float.Tensor": (lambda: Float64Type(), "float()"),
}


# -- views with a run-time index ----------------------------------------------------------------


def _non_negative_index(b: Builder, index: SSAValue) -> SSAValue | None:
    """`index` as an `index` value when it is known to be >= 0: the i64 view of an `scf.for`
    induction variable counting from 0 (what `for i in range(n)` gives)."""
    owner = index.owner
    if isinstance(owner, arith.IndexCastOp) and isinstance(owner.input.type, IndexType):
        iv = owner.input
        loop = iv.owner.parent_op() if isinstance(iv.owner, Block) else None
        if isinstance(loop, scf.ForOp) and iv is loop.body.block.args[0]:
            lb = loop.lb.owner
            if isinstance(lb, arith.ConstantOp) and lb.value.value.data >= 0:  # type: ignore[union-attr]
                return iv
    return None


def select_view(b: Builder, x: SSAValue, dim: int, index: Any, result: TensorType) -> SSAValue:
    """`x.select(dim, index)` as a rank-reducing `tensor.extract_slice`: after bufferization a
    `memref.subview` (the numpy view `x[i]`), never a copy; at the loops stage the view folds
    into its readers' `loop.load`s, whose leading index is then `index`. A negative index counts
    from the end (checked at run time unless it is a loop counter or a constant)."""
    xt = x.type
    assert isinstance(xt, TensorType)
    shape = xt.get_shape()
    offset: SSAValue | int
    if isinstance(index, int):
        if shape[dim] < 0:
            if index < 0:
                raise DiagnosticException("select with a negative index of a dynamic dim")
            offset = index
        else:
            offset = index % shape[dim]
    else:
        known = _non_negative_index(b, index)
        if known is not None:
            offset = known
        else:
            idx = as_index(b, cast_scalar(b, index, i64))
            size = b.insert(tensor.DimOp(x, _index_constant(b, dim))).result
            neg = b.insert(arith.CmpiOp(idx, _index_constant(b, 0), "slt")).result
            wrapped = b.insert(arith.AddiOp(idx, size)).result
            offset = b.insert(arith.SelectOp(neg, wrapped, idx)).result
    offsets: list[SSAValue | int] = [0] * len(shape)
    offsets[dim] = offset
    sizes: list[SSAValue | int] = []
    for k, n in enumerate(shape):
        if k == dim:
            sizes.append(1)
        elif n < 0:
            sizes.append(b.insert(tensor.DimOp(x, _index_constant(b, k))).result)
        else:
            sizes.append(n)
    return b.insert(tensor.ExtractSliceOp(x, offsets, sizes, [1] * len(shape), result)).result


class RaiseConversion(TorchConversionPattern):
    """`prim.RaiseException` -> `cf.assert false, "xjit.raise: <where>: <cls>: <message>"` (the
    numpy runtime raises xjit.errors.ScriptError for the prefix). The message's format values
    are constants once the call is specialised (`x.dim()`); one still unknown prints as `?`."""

    op_types = (td.PrimRaiseExceptionOp,)

    def convert(self, op: td.PrimRaiseExceptionOp, b: Builder) -> Sequence[SSAValue]:
        template = constant_of(op.msg)
        values = [constant_of(v) for v in op.fmt_args]
        text = str(template).format(*("?" if v is UNKNOWN else _py_str(v) for v in values))
        cls = constant_of(op.cls)  # None (an assert): TorchScript raises a RuntimeError
        text = f"{cls if isinstance(cls, str) else 'RuntimeError'}: {text}"
        loc = op.location
        if isinstance(loc, FileLineColLoc):
            text = f"{os.path.basename(loc.filename.data)}:{loc.line.data}: {text}"
        false = _const(b, 0, i1)
        b.insert(cf.AssertOp(false, RAISE_PREFIX + text))
        return []


def _py_str(v: Any) -> str:
    return "?" if isinstance(v, TensorMeta) else script_str(v)


CONTROL_FLOW_PATTERNS: tuple[RewritePattern, ...] = (
    IfConversion(),
    IfYieldConversion(),
    LoopConversion(),
    LoopConditionConversion(),
    UnpackConversion(),
    RaiseConversion(),
)
