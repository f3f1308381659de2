"""Registry ops from compile-time values: binding arguments to an op's schema (overloads
tried in order) and emitting the `torch.aten.*` op with the result types its shape rule gives."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

from xdsl.ir import SSAValue

from xjit._dispatch import bind
from xjit.dialects import torch as td
from xjit.frontends.builder import result_type
from xjit.frontends.script.values import PyList, PyObj, PyTuple, describe
from xjit.ops.registry import OVERLOADS, OpDef, ensure_loaded, lookup
from xjit.ops.schema import Arg
from xjit.ops.types import DType, ShapeError, TensorMeta


class RegistryOps:
    """FunctionCompiler's op emission (compiler.py holds the state)."""

    def registry_call(self, name: str, args: list[Any], kwargs: dict[str, Any], e: ast.AST) -> Any:
        ensure_loaded()
        if name not in OVERLOADS:
            raise self.error(e, f"unsupported: no op '{name}' in the registry")
        for opdef in OVERLOADS[name]:
            bound = bind_ir(opdef, args, kwargs)
            if bound is not None:
                res = self.emit(opdef, bound, e)
                return res[0] if len(res) == 1 else PyTuple(list(res))
        sigs = "\n  ".join(str(o.schema) for o in OVERLOADS[name] if not o.attrs.get("scalar"))
        got = ", ".join(
            [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
        )
        raise self.error(e, f"no overload of '{name}' accepts ({got}); expected one of:\n  {sigs}")

    def scalar_op(self, qualified: str, args: list[Any], e: ast.AST) -> SSAValue:
        return self.emit(lookup(qualified), args, e)[0]

    def emit(self, opdef: OpDef, args: Sequence[Any], e: ast.AST) -> tuple[SSAValue, ...]:
        b = self.b
        operands = []
        for a, v in zip(opdef.schema.args, args, strict=True):
            if isinstance(v, (PyTuple, PyList)):
                v = [x for x in v.items]
            if isinstance(v, PyObj):
                v = v.obj
            if isinstance(v, list) and a.type == "float":
                raise self.error(e, f"argument '{a.name}' must be a float")
            if a.type == "float" and isinstance(v, SSAValue) and isinstance(v.type, td.IntType):
                v = self.to_float(v, e)
            operands.append(b.operand(a, v))
        metas = [td._meta_or_const(o) for o in operands]
        incomplete = any(
            isinstance(m, TensorMeta) and (m.shape is None or m.dtype is None) for m in metas
        )
        try:
            out = opdef.shape(*metas)
        except ShapeError as err:
            if incomplete:
                out = None
            else:
                raise self.error(e, f"{opdef.schema.name}: {err}") from None
        except Exception:
            out = None
        if out is None:
            out = tuple(
                TensorMeta(None, None)
                if r == "Tensor"
                else {"int": int, "float": float, "bool": bool}[r]
                for r in opdef.schema.returns
            )
            out = out[0] if len(out) == 1 else out
        outs = out if isinstance(out, tuple) else (out,)
        op = td.aten_op_class(opdef.name).create(
            operands=operands, result_types=[result_type(m) for m in outs]
        )
        b.insert(op)
        return tuple(op.results)


def _ir_accepts(arg: Arg, v: Any) -> bool:
    t = arg.type
    base = t.rstrip("?")
    if isinstance(v, (bool, int, float)) or v is None:
        v = PyObj(v)
    if isinstance(v, PyObj):
        v = v.obj
        if v is None:
            return arg.optional
        if isinstance(v, bool):
            return base in ("bool", "Scalar")
        if isinstance(v, int):
            return base in ("int", "Scalar", "float", "int[]")
        if isinstance(v, float):
            return base in ("float", "Scalar")
        if base == "ScalarType":
            return isinstance(v, DType)
        if base == "str":
            return isinstance(v, str)
        return False
    if isinstance(v, (PyTuple, PyList)):
        if base == "int[]":
            return all(isinstance(x, SSAValue) and isinstance(x.type, td.IntType) for x in v.items)
        if base == "Tensor[]":
            return all(
                isinstance(x, SSAValue) and isinstance(x.type, td.ValueTensorType) for x in v.items
            )
        return False
    if not isinstance(v, SSAValue):
        return False
    ty = v.type
    if isinstance(ty, td.NoneType):
        return arg.optional
    if base == "Tensor":
        return isinstance(ty, td.ValueTensorType)
    if base == "Scalar":
        return isinstance(ty, (td.IntType, td.FloatType, td.BoolType))
    if base == "int":
        return isinstance(ty, td.IntType)
    if base == "float":
        return isinstance(ty, (td.FloatType, td.IntType))
    if base == "bool":
        return isinstance(ty, td.BoolType)
    if base == "int[]":
        return isinstance(ty, td.IntType) or (
            isinstance(ty, td.ListType) and isinstance(ty.element_type, td.IntType)
        )
    if base == "Tensor[]":
        return isinstance(ty, td.ListType)
    return False


def _ir_int_as_list(value: Any) -> Any:
    return (
        PyList([value])
        if isinstance(value, SSAValue) and isinstance(value.type, td.IntType)
        else value
    )


def bind_ir(opdef: OpDef, args: Sequence[Any], kwargs: dict[str, Any]) -> list[Any] | None:
    """`_dispatch.bind` for compile-time values: schema order, defaults filled in."""
    schema = opdef.schema
    pos = list(args)
    # torch.zeros(3, 4): varargs sizes pack into the leading int[] argument
    if (
        schema.args
        and schema.args[0].type.startswith("int[]")
        and len(pos) > 1
        and all(isinstance(p, SSAValue) and isinstance(p.type, td.IntType) for p in pos)
    ):
        pos = [PyList(pos)]
    return bind(schema, pos, kwargs, accepts=_ir_accepts, int_as_list=_ir_int_as_list)
