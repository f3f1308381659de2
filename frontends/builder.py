"""Emitting torch-dialect ops from registry entries: shared by the tracer, the scripting
frontend and `torch-decompose`.

`TorchBuilder.emit(opdef, args)` materialises Python arguments as `torch.constant.*` /
`torch.prim.ListConstruct`, infers result types with the op's shape rule, and inserts the op.
`IRTorch` exposes the same calls under torch's Python names (`T.mm(x, T.t(w))`), so
decompositions written against the eager API run unchanged on IR.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xdsl.builder import Builder, InsertPoint
from xdsl.ir import Attribute, Operation, SSAValue

from xjit._dispatch import bind
from xjit.dialects import torch as td
from xjit.ops.registry import UNKNOWN, OpDef, overloads
from xjit.ops.schema import Arg
from xjit.ops.types import SCALAR_TYPE_CODES, DType, TensorMeta


class IRValue:
    """A tensor SSA value seen through the eager Tensor interface that decompositions use."""

    __slots__ = ("value",)

    def __init__(self, value: SSAValue) -> None:
        self.value = value

    @property
    def meta(self) -> TensorMeta:
        t = self.value.type
        assert isinstance(t, td.ValueTensorType)
        return t.meta

    def dim(self) -> int:
        return self.meta.rank

    @property
    def shape(self) -> tuple[int | None, ...]:
        s = self.meta.shape
        if s is None:
            raise ValueError("shape of an unranked tensor")
        return s

    @property
    def dtype(self) -> Any:
        return self.meta.dtype


def vtensor_type(meta: TensorMeta) -> td.ValueTensorType:
    return td.ValueTensorType.of(meta.shape, meta.dtype)


def result_type(meta: Any) -> Attribute:
    """The IR type of what a shape rule returned: a TensorMeta, or `int`/`float`/`bool` for the
    scalar results of xjit/ops/scalar_ops.py."""
    if isinstance(meta, TensorMeta):
        return vtensor_type(meta)
    return {int: td.IntType(), float: td.FloatType(), bool: td.BoolType()}[meta]


class TorchBuilder:
    def __init__(self, insert_point: InsertPoint) -> None:
        self.builder = Builder(insert_point)
        # Source location given to every inserted op, when known (xDSL's `Operation.location`:
        # printed as MLIR `loc(...)` with `Printer(print_debuginfo=True)`, parsed back).
        self.loc: Attribute | None = None

    def insert(self, op: Operation) -> Operation:
        if self.loc is not None:
            op.location = self.loc  # type: ignore[assignment]
        self.builder.insert(op)
        return op

    # -- constants -------------------------------------------------------------------------
    def constant(self, v: Any, arg_type: str = "") -> SSAValue:
        if v is None:
            return self.insert(td.ConstantNoneOp()).results[0]
        if isinstance(v, bool):
            return self.insert(td.ConstantBoolOp(v)).results[0]
        if isinstance(v, DType):  # ScalarType arguments are ints in torch-mlir
            return self.insert(td.ConstantIntOp(SCALAR_TYPE_CODES[v])).results[0]
        if isinstance(v, int) and not arg_type.startswith("float"):
            return self.insert(td.ConstantIntOp(v)).results[0]
        if isinstance(v, (int, float)):
            return self.insert(td.ConstantFloatOp(float(v))).results[0]
        if isinstance(v, str):  # gelu's approximate, div's rounding_mode, ...
            return self.insert(td.ConstantStrOp(v)).results[0]
        if isinstance(v, (list, tuple)):
            elems = [
                x.value
                if isinstance(x, IRValue)
                else x
                if isinstance(x, SSAValue)
                else self.constant(x)
                for x in v
            ]
            elem_t = elems[0].type if elems else td.IntType()
            if isinstance(elem_t, td.ValueTensorType):  # `!torch.list<vtensor>`, as torch-mlir
                elem_t = td.ValueTensorType.of(None, None)
            return self.insert(td.PrimListConstructOp(elems, td.ListType(elem_t))).results[0]
        raise TypeError(f"cannot make a torch constant of {type(v).__name__} {v!r}")

    def operand(self, arg: Arg, v: Any) -> SSAValue:
        if isinstance(v, IRValue):
            return v.value
        if isinstance(v, SSAValue):
            return v
        return self.constant(v, arg.type)

    # -- ops ---------------------------------------------------------------------------------
    def emit(self, opdef: OpDef, args: Sequence[Any]) -> tuple[SSAValue, ...]:
        """Insert `opdef` applied to `args` (schema order; SSA values, IRValues or Python values)."""
        operands = [self.operand(a, v) for a, v in zip(opdef.schema.args, args, strict=True)]
        metas = [td._meta_or_const(o) for o in operands]
        # Python constants are known even when materialised: give the rule the real values.
        # (A list holding run-time values, e.g. sizes read from a `?` dim, stays UNKNOWN: it is
        # a `torch.prim.ListConstruct` of those values.)
        metas = [
            v if m is UNKNOWN and _is_python_const(v) else m
            for m, v in zip(metas, args, strict=True)
        ]
        metas = td.with_partial_lists(opdef, metas, operands)
        out = opdef.shape(*metas)
        outs = out if isinstance(out, tuple) else (out,)
        cls = td.aten_op_class(opdef.name)
        op = cls.create(operands=operands, result_types=[result_type(m) for m in outs])
        self.insert(op)
        return tuple(op.results)


def _is_python_const(v: Any) -> bool:
    """`v` holds no SSA value at any depth (lists and tuples included)."""
    if isinstance(v, (SSAValue, IRValue)):
        return False
    if isinstance(v, (list, tuple)):
        return all(_is_python_const(x) for x in v)
    return True


class IRTorch:
    """`T.mm(a, T.t(b))` on IR: resolves torch overloads exactly as eager dispatch does."""

    def __init__(self, builder: TorchBuilder) -> None:
        self._b = builder

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            for opdef in overloads(name):
                bound = bind(opdef.schema, args, kwargs, is_tensor=lambda v: isinstance(v, IRValue))
                if bound is not None:
                    res = self._b.emit(opdef, bound)
                    return IRValue(res[0]) if len(res) == 1 else tuple(IRValue(r) for r in res)
            raise TypeError(f"no overload of {name} accepts {args!r}")

        return call
