"""Render torch-dialect functions as Python (`.code`), in the spirit of TorchScript's `.code`.

Constants, lists and parameter reads are inlined; each op result gets a `_N` name; arguments
equal to their schema default are left out, as TorchScript does. As in TorchScript, a module's
code is its own methods only: a call of a submodule's method (`@loop.forward`) reads
`self.loop(xs)` and that method's code is shown under its own module (`traced.loop.code`);
scripted functions it calls (`@fn.helper`) follow as plain `def helper(...)`. The result is
valid Python syntax.
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


def _callee_text(callee: str) -> str:
    if callee.startswith(_FN):
        return _identifier(callee.rsplit(".", 1)[-1], "function")  # @fn.<name>.<name>
    path = callee[: -len(".forward")] if callee.endswith(".forward") else callee
    return _self_path(path)


def _self_path(path: str) -> str:
    """`self.a.b`, with TorchScript's `getattr(self.l, "0")` for a ModuleList's children."""
    out = "self"
    for p in path.split("."):
        out = f"{out}.{p}" if _identifier(p, "") else f'getattr({out}, "{p}")'
    return out


# Constants print as Python literals where they are used.
_CONSTANTS = (
    td.ConstantIntOp,
    td.ConstantFloatOp,
    td.ConstantBoolOp,
    td.ConstantNoneOp,
    td.ConstantStrOp,
)
# Ops rendered inline where used (constants, lists, parameter reads): they emit no statement.
_INLINED = (*_CONSTANTS, td.PrimListConstructOp, td.GlobalSlotGetOp)
_FN = "fn."  # frontends/script/calls.py: a called scripted function is @fn.<name>


class _FunctionPrinter:
    def __init__(self, f: func.FuncOp, method: bool = True, name: str | None = None) -> None:
        self.f = f
        self.method = method
        self.name = name or _identifier(f.sym_name.data, "function")
        self.names: dict[SSAValue, str] = {}
        self.counter = 0
        self.lines: list[str] = []
        self.depth = 0

    def fresh(self) -> str:
        name = f"_{self.counter}"
        self.counter += 1
        return name

    def expr(self, v: SSAValue) -> str:
        if v in self.names:
            return self.names[v]
        op = v.owner
        if isinstance(op, _CONSTANTS):
            return repr(td._meta_or_const(v))
        if isinstance(op, td.PrimListConstructOp):
            return "[" + ", ".join(self.expr(e) for e in op.elements) + "]"
        if isinstance(op, td.GlobalSlotGetOp):
            return _self_path(op.slot.root_reference.data)
        raise ValueError(f"no Python name for {v}")

    def emit(self, line: str) -> None:
        self.lines.append("  " * self.depth + line)

    def bind(self, values: Any, names: list[str]) -> None:
        for r, n in zip(values, names, strict=True):
            self.names[r] = n

    def assign(self, names: list[str], vals: list[Any]) -> None:
        """`n = v` for each pair that differs, as one parallel assignment when several (a loop
        that swaps two carried values must not read one it already overwrote)."""
        pairs = [(n, self.expr(v)) for n, v in zip(names, vals, strict=True)]
        pairs = [(n, e) for n, e in pairs if n != e]
        if len(pairs) == 1:
            self.emit(f"{pairs[0][0]} = {pairs[0][1]}")
        elif pairs:
            self.emit(f"{', '.join(n for n, _ in pairs)} = {', '.join(e for _, e in pairs)}")

    def var(self, v: SSAValue) -> str:
        """A fresh Python variable for a control-flow result, named after its hint when possible."""
        hint = v.name_hint
        if hint and _identifier(
            hint.split("_")[0] if hint.rsplit("_", 1)[-1].isdigit() else hint, ""
        ):
            base = hint.rsplit("_", 1)[0] if hint.rsplit("_", 1)[-1].isdigit() else hint
            return base
        return self.fresh()

    def prename(self, block: Any, targets: list[str], yielded: list[Any]) -> None:
        """`_4 = torch.neg(x)` + `_3 = _4` → `_3 = torch.neg(x)`: when the last op before the
        terminator defines values used only by it, its results take the target names directly
        (safe: nothing runs between that op and the end of the block, and the remaining
        assignments are checked not to read those names)."""
        term = block.last_op
        last = term.prev_op if term is not None else None
        while isinstance(last, _INLINED):  # rendered where used: nothing runs in between
            last = last.prev_op
        if last is None or isinstance(last, (td.PrimIfOp, td.PrimLoopOp)) or not last.results:
            return
        if isinstance(last, (*_INLINED, td.TensorStaticInfoCastOp)):
            return
        chosen: dict[Any, str] = {}
        for r in last.results:
            uses = [u for u in r.uses]
            if len(uses) != 1 or uses[0].operation is not term:
                return
            idx = [i for i, v in enumerate(yielded) if v is r]
            if len(idx) != 1:
                return
            chosen[r] = targets[idx[0]]
        if len(set(chosen.values())) != len(chosen):
            return
        others = [v for v in term.operands if v not in chosen]  # incl. a loop's condition
        for v in others:  # what the other assignments read must not be renamed under them
            try:
                if self.expr(v) in chosen.values():
                    return
            except ValueError:
                return
        self.names.update(chosen)

    def region_ops(self, block: Any, targets: list[str] | None = None) -> list[Any]:
        """Render a region's ops (not its terminator); returns the terminator's operands."""
        if targets is not None:
            vals = list(block.last_op.operands)
            self.prename(block, targets, vals[len(vals) - len(targets) :])
        self.depth += 1
        for o in block.ops:
            if isinstance(o, (td.PrimIfYieldOp, td.PrimLoopConditionOp)):
                break
            self.op(o)
        self.depth -= 1
        return list(block.last_op.operands)

    def control_flow(self, op: Operation) -> bool:
        if isinstance(op, td.TensorStaticInfoCastOp):
            self.names[op.result] = self.expr(op.operand)
            return True
        if isinstance(op, td.PrimTupleUnpackOp):
            names = [self.names.get(r) or self.fresh() for r in op.results]
            self.bind(op.results, names)
            self.emit(f"{', '.join(names)} = {self.expr(op.tup)}")
            return True
        if isinstance(op, func.CallOp):
            target = _callee_text(op.callee.root_reference.data)
            names = [self.names.get(r) or self.fresh() for r in op.results]
            self.bind(op.results, names)
            call = f"{target}({', '.join(self.expr(v) for v in op.arguments)})"
            self.emit(f"{', '.join(names)} = {call}" if names else call)
            return True
        if isinstance(op, td.PrimIfOp):
            names = [self.var(r) for r in op.results]
            self.emit(f"if {self.expr(op.condition)}:")
            for region in (op.then_region, op.else_region):
                if region is op.else_region:
                    self.emit("else:")
                start = len(self.lines)
                vals = self.region_ops(region.block, names)
                self.depth += 1
                self.assign(names, vals)
                if len(self.lines) == start:
                    self.emit("pass")
                self.depth -= 1
            self.bind(op.results, names)
            return True
        if isinstance(op, td.PrimLoopOp):
            blk = op.body.block
            names = [self.var(r) for r in op.results]
            for n, v in zip(names, op.iter_args_init, strict=True):
                if self.expr(v) != n:
                    self.emit(f"{n} = {self.expr(v)}")
            self.bind(blk.args[1:], names)
            idx = (
                self.fresh()
                if blk.args[0].name_hint is None
                else _identifier(blk.args[0].name_hint, self.fresh())
            )
            self.names[blk.args[0]] = idx
            term = blk.last_op
            init = td._meta_or_const(op.initial_condition)
            n = td._meta_or_const(op.max_trip_count)
            cont = td._meta_or_const(term.operands[0])
            if init is True and cont is True:
                self.emit(f"for {idx} in range({self.expr(op.max_trip_count)}):")
            elif n == 9223372036854775807:
                self.emit(f"while {self.expr(op.initial_condition)}:  # {idx} counts iterations")
            else:
                self.emit(
                    f"for {idx} in range({self.expr(op.max_trip_count)}):  # while the condition holds"
                )
            start = len(self.lines)
            vals = self.region_ops(blk, names)
            self.depth += 1
            self.assign(names, vals[1:])
            if (
                not (init is True and cont is True)
                and n != 9223372036854775807
                or cont is not True
                and n == 9223372036854775807
            ):
                if cont is not True:
                    self.emit(f"if not {self.expr(vals[0])}: break")
            if len(self.lines) == start:
                self.emit("pass")
            self.depth -= 1
            self.bind(op.results, names)
            return True
        return False

    def op(self, op: Operation) -> None:
        if self.control_flow(op):
            return
        if isinstance(op, _INLINED):
            return  # inlined where used
        if isinstance(op, func.ReturnOp):
            vals = [self.expr(v) for v in op.arguments]
            self.emit("return " + (vals[0] if len(vals) == 1 else f"({', '.join(vals)})"))
            return
        if isinstance(op, td.PrimTupleConstructOp):
            rhs = (
                "("
                + ", ".join(self.expr(e) for e in op.elements)
                + ("," if len(op.elements) == 1 else "")
                + ")"
            )
        elif isinstance(op, td.AtenOp) and "binop" in op.OPDEF.attrs:
            a, b = (self.expr(v) for v in op.operands)
            rhs = f"{a} {op.OPDEF.attrs['binop']} {b}"
        elif isinstance(op, td.AtenOp) and "unop" in op.OPDEF.attrs:
            rhs = f"{op.OPDEF.attrs['unop']}{self.expr(op.operands[0])}"
        elif isinstance(op, td.AtenOp) and op.OPDEF.name == "torch.aten.size.int":
            rhs = f"{self.expr(op.operands[0])}.size({self.expr(op.operands[1])})"
        elif isinstance(op, td.AtenOp):
            rhs = self.call(op)
        elif isinstance(op, td.ValueTensorLiteralOp):
            rhs = "CONSTANTS.c" + str(self.counter)
        else:
            rhs = f"{op.name}(" + ", ".join(self.expr(v) for v in op.operands) + ")"
        targets = [self.names.get(r) or self.fresh() for r in op.results]
        for r, n in zip(op.results, targets, strict=True):
            self.names[r] = n
        lhs = ", ".join(targets)
        self.emit(f"{lhs} = {rhs}" if targets else rhs)

    def call(self, op: td.AtenOp) -> str:
        schema = op.OPDEF.schema
        parts: list[str] = []
        skipped = False  # after a left-out default, arguments go by name (not shifted left)
        for a, v in zip(schema.args, op.operands, strict=True):
            if a.has_default and not isinstance(v.type, td.ValueTensorType):
                c = td._meta_or_const(v)
                if c is not UNKNOWN and c == a.default and type(c) is type(a.default):
                    skipped = True
                    continue
            text = self.expr(v)
            parts.append(f"{a.name}={text}" if a.kwarg_only or skipped else text)
        return f"{op.OPDEF.py}({', '.join(parts)})"

    def render(self) -> str:
        args = ["self"] if self.method else []
        for i, a in enumerate(self.f.body.block.args):
            name = _identifier(a.name_hint, f"argument_{i}")
            self.names[a] = name
            args.append(f"{name}: {_type_str(a.type)}")
        outs = self.f.function_type.outputs.data
        ret = (
            _type_str(outs[0])
            if len(outs) == 1
            else f"Tuple[{', '.join(_type_str(t) for t in outs)}]"
        )
        for op in self.f.body.block.ops:
            self.op(op)
        sig = f"def {self.name}({', '.join(args)}) -> {ret}:"
        return "\n".join([sig, *("  " + line for line in self.lines)])


def _is_method(f: func.FuncOp) -> bool:
    """A module method reads `self`: it is `forward`, or reads parameters or calls submodules."""
    if f.sym_name.data == "forward":
        return True
    for op in f.walk():
        if isinstance(op, td.GlobalSlotGetOp):
            return True
        if isinstance(op, func.CallOp) and not op.callee.root_reference.data.startswith(_FN):
            return True
    return False


def render_python(module: ModuleOp) -> str:
    """A torch-dialect module's public functions (its methods) as Python source, followed by the
    scripted functions they call; submodules' methods are called, not shown (see above)."""
    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    public = [
        f for f in funcs.values() if f.sym_visibility is None or f.sym_visibility.data != "private"
    ]
    entries = public or list(funcs.values())[:1]
    shown: list[func.FuncOp] = []
    todo = list(entries)
    while todo:  # the entries, then the scripted functions reachable from them, in call order
        f = todo.pop(0)
        if f in shown:
            continue
        shown.append(f)
        for op in f.walk():
            if isinstance(op, func.CallOp):
                callee = funcs.get(op.callee.root_reference.data)
                if callee is not None and callee.sym_name.data.startswith(_FN):
                    todo.append(callee)
    parts = []
    for f in shown:
        name = f.sym_name.data
        if name.startswith(_FN):
            parts.append(_FunctionPrinter(f, False, _callee_text(name)).render())
        else:
            parts.append(_FunctionPrinter(f, _is_method(f)).render())
    return "\n\n".join(parts) + "\n"
