"""The `torch.aten.*` ops' hand-written assembly format (dialects/torch.py `AtenOp.print/parse`,
issue 14: declarative formats were most of the dialect's import time) against the declarative
format the classes had before, `$a `,` $b attr-dict `:` type($a) `,` type($b) `->` type($r)`,
built here as the oracle: same text for every registered op, with and without attributes, and
the text parses back to the same op. Also: the op classes are built lazily, once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.dialects.func import FuncOp
from xdsl.ir import Block, Region
from xdsl.irdl import irdl_op_definition
from xdsl.parser import Parser
from xdsl.printer import Printer

import xjit
import xjit.dialects.torch as td
from xjit.dialects import make_context
from xjit.dialects.torch_types import (
    BoolType,
    FloatType,
    IntType,
    ListType,
    StrType,
    ValueTensorType,
)
from xjit.ops import types as T
from xjit.ops.registry import all_ops


def _declarative(cls: Any) -> Any:
    """The op class as it was: the same fields, with the declarative assembly format."""
    opdef = cls.OPDEF
    operands = [td.field_name(a.name) for a in opdef.schema.args]
    n = len(opdef.schema.returns)
    results = ["result"] if n == 1 else [f"result{i}" for i in range(n)]
    fmt = (
        " `,` ".join(f"${o}" for o in operands)
        + " attr-dict `:` "
        + " `,` ".join(f"type(${o})" for o in operands)
        + " `->` "
        + " `,` ".join(f"type(${r})" for r in results)
    )
    ns: dict[str, Any] = {"name": opdef.name, "__module__": __name__}
    for a, f in zip(opdef.schema.args, operands):
        ns[f] = td.operand_def(td._CONSTRAINTS[a.type])
    for r, rt in zip(results, opdef.schema.returns):
        ns[r] = td.result_def(td._RESULT_CONSTRAINTS.get(rt, td.AnyAttr()))
    ns["assembly_format"] = fmt
    return irdl_op_definition(type(cls.__name__ + "Declarative", (td.IRDLOperation,), ns))


def _type_for(arg_type: str) -> Any:
    """A type the argument (or result) accepts."""
    base = arg_type.rstrip("?")
    if base == "Tensor":
        return ValueTensorType.of((3, 4), T.float32)
    if base in ("Tensor[]", "int[]"):
        return ListType(ValueTensorType.of(None, None) if base == "Tensor[]" else IntType())
    simple = {"float": FloatType, "bool": BoolType, "str": StrType}
    return simple.get(base, IntType)()  # int, Scalar, ScalarType


def _text(op: Any) -> str:
    out = io.StringIO()
    Printer(stream=out).print_op(op)
    return out.getvalue()


def _instance(cls: Any, attrs: bool, opdef: Any = None) -> Any:
    opdef = opdef or cls.OPDEF
    block = Block(arg_types=[_type_for(a.type) for a in opdef.schema.args])
    results = [_type_for(r) for r in opdef.schema.returns]
    attributes = {"tag": StringAttr("x"), "n": IntegerAttr(3, i64)} if attrs else {}
    op = cls.create(operands=list(block.args), result_types=results, attributes=attributes)
    block.add_op(op)
    return op


@pytest.mark.parametrize("attrs", [False, True])
def test_every_aten_op_prints_as_the_declarative_format(attrs: bool) -> None:
    for opdef in all_ops():
        cls = td.aten_op_class(opdef.name)
        ours = _text(_instance(cls, attrs))
        oracle = _text(_instance(_declarative(cls), attrs, opdef))
        assert ours == oracle, opdef.name


def test_every_aten_op_parses_back() -> None:
    ctx = make_context()
    for opdef in all_ops():
        op = _instance(td.aten_op_class(opdef.name), attrs=True)
        block = op.parent_block()
        func = FuncOp("f", ([a.type for a in block.args], []), Region(block))
        text = str(ModuleOp([func]))
        parsed = Parser(ctx, text).parse_module()
        assert str(parsed) == text, opdef.name
        (back,) = [o for o in parsed.walk() if o.name == opdef.name]
        assert type(back) is td.aten_op_class(opdef.name)
        assert back.attributes == op.attributes


def test_ir_text_round_trips_through_the_parser() -> None:
    def f(x: Any, h: Any) -> Any:
        y = xjit.tanh(xjit.nn.functional.linear(x, h) + h) * 2.0
        return xjit.softmax(y, -1).sum(1), y.max(1)

    traced = xjit.jit.trace(f, (xjit.randn(4, 4), xjit.randn(4, 4)))
    text = traced.graph
    ctx = make_context()
    module = Parser(ctx, text).parse_module()
    module.verify()
    assert str(module) == text
    assert "torch.aten.max.dim" in text and "torch.aten.linear" in text


def test_op_classes_are_built_once_on_demand() -> None:
    a = td.aten_op_class("torch.aten.tanh")
    assert td.aten_op_class("torch.aten.tanh") is a
    assert td.ATEN_OPS["torch.aten.tanh"] is a
    assert len(td.ATEN_OPS) == len(all_ops())
    names = {op.name for op in td.Torch.operations}  # the dialect lists every class
    assert {op.name for op in all_ops()} <= names
    assert any(c is a for c in td.Torch.operations)
