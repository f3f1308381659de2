"""`inline`: replace every `func.call` to a function defined in the module by the callee's body,
then erase the private functions no longer called. xDSL has no inliner; the scripting frontend
emits calls for submodules and scripted functions, and the lowering pipeline expects none.

Inlined ops keep the callee's source locations. Recursive calls cannot be inlined and are an
error naming the cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass
from xdsl.rewriter import InsertPoint, Rewriter
from xdsl.utils.exceptions import DiagnosticException


class InlineError(DiagnosticException):
    pass


def _calls(op: func.FuncOp) -> list[func.CallOp]:
    return [o for o in op.walk() if isinstance(o, func.CallOp)]


def _check_acyclic(funcs: dict[str, func.FuncOp]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in funcs:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name) :] + [name]
            raise InlineError(
                f"inline: recursive calls cannot be inlined: {' -> '.join('@' + n for n in cycle)}"
            )
        state[name] = 1
        for c in _calls(funcs[name]):
            visit(c.callee.root_reference.data, [*path, name])
        state[name] = 2

    for n in funcs:
        visit(n, [])


def inline_call(call: func.CallOp, callee: func.FuncOp) -> None:
    body = callee.body.clone()
    block = body.block
    ret = block.last_op
    assert isinstance(ret, func.ReturnOp)
    # A returned callee argument (`Identity.forward` returns its input) is the call's operand.
    position = {id(a): k for k, a in enumerate(block.args)}
    values = [call.arguments[position[id(v)]] if id(v) in position else v for v in ret.arguments]
    Rewriter.erase_op(ret)
    Rewriter.inline_block(block, InsertPoint.before(call), list(call.arguments))
    Rewriter.replace_op(call, [], values)


@dataclass(frozen=True)
class Inline(ModulePass):
    name = "inline"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        funcs = {f.sym_name.data: f for f in op.ops if isinstance(f, func.FuncOp)}
        _check_acyclic(funcs)
        # Callees first: each body is inlined once fully flattened.
        done: set[str] = set()

        def flatten(name: str) -> None:
            if name in done:
                return
            done.add(name)
            f = funcs[name]
            for call in _calls(f):
                callee = funcs.get(call.callee.root_reference.data)
                if callee is None or not callee.body.blocks:
                    continue
                flatten(callee.sym_name.data)
                inline_call(call, callee)

        for n in list(funcs):
            flatten(n)
        for f in funcs.values():
            if f.sym_visibility is not None and f.sym_visibility.data == "private":
                Rewriter.erase_op(f)
