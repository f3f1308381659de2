"""Render torch-dialect functions as Python (`.code`), in the spirit of TorchScript's `.code`.

Constants, lists and parameter reads are inlined; each op result gets a `_N` name; arguments
equal to their schema default are left out, as TorchScript does.
"""

from __future__ import annotations

from typing import Any

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation, SSAValue

from xjit.dialects import torch as td
from xjit.ops.registry import UNKNOWN


def _type_str(t: Any) -> str:
    if isinstance(t, td.ValueTensorType):
        return "Tensor"
    if isinstance(t, td.TupleType):
        return f"Tuple[{', '.join(_type_str(x) for x in t.contained_types.data)}]"
    if isinstance(t, td.ListType):
        return f"List[{_type_str(t.element_type)}]"
    return {td.IntType: "int", td.FloatType: "float", td.BoolType: "bool", td.NoneType: "None"}.get(
        type(t), str(t)
    )


def _identifier(hint: str | None, fallback: str) -> str:
    if hint and hint.replace("_", "a").isalnum() and not hint[0].isdigit():
        return hint
    return fallback


class _FunctionPrinter:
    def __init__(self, f: func.FuncOp) -> None:
        self.f = f
        self.names: dict[SSAValue, str] = {}
        self.counter = 0
        self.lines: list[str] = []

    def fresh(self) -> str:
        name = f"_{self.counter}"
        self.counter += 1
        return name

    def expr(self, v: SSAValue) -> str:
        if v in self.names:
            return self.names[v]
        op = v.owner
        if isinstance(op, (td.ConstantIntOp, td.ConstantFloatOp, td.ConstantBoolOp, td.ConstantNoneOp)):
            return repr(td._meta_or_const(v))
        if isinstance(op, td.PrimListConstructOp):
            return "[" + ", ".join(self.expr(e) for e in op.elements) + "]"
        if isinstance(op, td.GlobalSlotGetOp):
            return "self." + op.slot.root_reference.data
        raise ValueError(f"no Python name for {v}")

    def op(self, op: Operation) -> None:
        if isinstance(op, (td.ConstantIntOp, td.ConstantFloatOp, td.ConstantBoolOp,
                           td.ConstantNoneOp, td.PrimListConstructOp, td.GlobalSlotGetOp)):
            return  # inlined where used
        if isinstance(op, func.ReturnOp):
            vals = [self.expr(v) for v in op.arguments]
            self.lines.append("return " + (vals[0] if len(vals) == 1 else f"({', '.join(vals)})"))
            return
        if isinstance(op, td.PrimTupleConstructOp):
            rhs = "(" + ", ".join(self.expr(e) for e in op.elements) + ("," if len(op.elements) == 1 else "") + ")"
        elif isinstance(op, td.AtenOp):
            rhs = self.call(op)
        elif isinstance(op, td.ValueTensorLiteralOp):
            rhs = "CONSTANTS.c" + str(self.counter)
        else:
            rhs = f"{op.name}(" + ", ".join(self.expr(v) for v in op.operands) + ")"
        targets = [self.fresh() for _ in op.results]
        for r, n in zip(op.results, targets, strict=True):
            self.names[r] = n
        lhs = ", ".join(targets)
        self.lines.append(f"{lhs} = {rhs}" if targets else rhs)

    def call(self, op: td.AtenOp) -> str:
        schema = op.OPDEF.schema
        parts: list[str] = []
        for a, v in zip(schema.args, op.operands, strict=True):
            if a.has_default and not isinstance(v.type, td.ValueTensorType):
                c = td._meta_or_const(v)
                if c is not UNKNOWN and c == a.default and type(c) is type(a.default):
                    continue
            text = self.expr(v)
            parts.append(f"{a.name}={text}" if a.kwarg_only else text)
        return f"{op.OPDEF.py}({', '.join(parts)})"

    def render(self) -> str:
        args = ["self"]
        for i, a in enumerate(self.f.body.block.args):
            name = _identifier(a.name_hint, f"argument_{i}")
            self.names[a] = name
            args.append(f"{name}: {_type_str(a.type)}")
        outs = self.f.function_type.outputs.data
        ret = _type_str(outs[0]) if len(outs) == 1 else f"Tuple[{', '.join(_type_str(t) for t in outs)}]"
        for op in self.f.body.block.ops:
            self.op(op)
        sig = f"def {self.f.sym_name.data}({', '.join(args)}) -> {ret}:"
        return "\n".join([sig, *("  " + line for line in self.lines)])


def render_python(module: ModuleOp) -> str:
    """All functions of a torch-dialect module as Python source."""
    funcs = [op for op in module.ops if isinstance(op, func.FuncOp)]
    return "\n\n".join(_FunctionPrinter(f).render() for f in funcs) + "\n"
