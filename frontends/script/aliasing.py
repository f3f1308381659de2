"""When an in-place update in scripted code (`y += 1`, `y.add_(1)`, `y[0] = v`) may be compiled
as rebinding `y` to the out-of-place result.

TorchScript updates the tensor's memory, so every alias sees the update: another name bound to
the same tensor, a view of it, the tensor a view was taken of, the caller's tensor passed as an
argument, a module's parameter. The IR here is made of values, so the update is compiled as
`y = y + 1`, which is right only where nothing else can observe the old tensor. `memory_of`
follows a value back through views, casts and control flow to the tensors whose memory it may
be; the update is refused (a located FrontendError) when any of them is an argument, a
parameter or constant, or is also reachable from another live name. A loop-carried value is
also checked on the loop's back edge once the body is compiled (`check_loop_yields`).
"""

from __future__ import annotations

import ast
from typing import Any

from xdsl.dialects import func
from xdsl.ir import Block, BlockArgument, OpResult, SSAValue

from xjit.dialects import torch as td
from xjit.errors import FrontendError
from xjit.frontends.script import alias_updates
from xjit.frontends.script.registry_ops import NeedsArgTypes, NeedsCallTypes
from xjit.frontends.script.values import PyList, PyObj, PyTuple

# Registry ops whose result may share memory with their first operand: torch's schemas
# annotate these returns `Tensor(a)` (tests/conformance/test_script_inplace.py checks the list
# against them), plus `dropout`, which returns its input in eval mode.
VIEW_OPS = frozenset(
    {
        "contiguous",
        "expand",
        "flatten",
        "permute",
        "reshape",
        "select",
        "slice",
        "squeeze",
        "t",
        "to",
        "transpose",
        "unflatten",
        "unsqueeze",
        "view",
        "dropout",
        # issue 12 (xjit/ops/layout_ops.py, math_ops.py)
        "broadcast_to",
        "diagonal",
        "expand_as",
        "movedim",
        "narrow",
        "positive",
        "reshape_as",
        "swapaxes",
        "view_as",
        "unfold",  # xjit/ops/arrange_ops.py
    }
)


def _pending(fc: Any) -> dict[Block, list[SSAValue]]:
    """Loop bodies being compiled (not yet inside their `prim.Loop`): block -> the initial
    values of its carried block arguments 1.., in order."""
    if not hasattr(fc, "_inplace_pending"):
        fc._inplace_pending = {}
        fc._inplace_updated = set()  # block arguments of pending bodies updated in place
    return fc._inplace_pending  # type: ignore[no-any-return]


def register_loop_body(fc: Any, block: Block, inits: list[SSAValue]) -> None:
    _pending(fc)[block] = inits


class _Walk:
    def __init__(self, mc: Any, pending: dict[Block, list[SSAValue]]) -> None:
        self.mc = mc
        self.pending = pending
        self.seen: set[SSAValue] = set()
        self.problem: str | None = None

    def note(self, why: str) -> None:
        if self.problem is None:
            self.problem = why

    def visit(self, v: SSAValue) -> None:
        if v in self.seen:
            return
        self.seen.add(v)
        if isinstance(v, BlockArgument):
            self.block_arg(v)
        elif isinstance(v, OpResult):
            self.result(v)

    def block_arg(self, v: BlockArgument) -> None:
        block = v.block
        pending = self.pending.get(block)
        if pending is not None:  # a loop body being compiled: its back edge is checked later
            if v.index >= 1 and v.index - 1 < len(pending):
                self.visit(pending[v.index - 1])
            return
        op = block.parent_op()
        if isinstance(op, td.PrimLoopOp):
            if v.index >= 1:
                self.loop_edges(op, v.index - 1)
            return
        self.note("an argument of the function (the caller's tensor would not be updated)")

    def loop_edges(self, op: td.PrimLoopOp, k: int) -> None:
        inits = list(op.operands)[2:]
        if k < len(inits):
            self.visit(inits[k])
        term = op.regions[0].blocks[0].last_op
        if term is not None and k + 1 < len(term.operands):
            self.visit(term.operands[k + 1])

    def result(self, v: OpResult) -> None:
        op = v.op
        name = op.name
        if isinstance(op, td.TensorStaticInfoCastOp):
            self.visit(op.operands[0])
        elif isinstance(op, td.GlobalSlotGetOp):
            self.note("a parameter, buffer or attribute of the module")
        elif isinstance(op, td.ValueTensorLiteralOp):
            self.note("a tensor constant")
        elif isinstance(op, td.PrimIfOp):
            for region in op.regions:
                term = region.blocks[0].last_op
                if term is not None:
                    self.visit(term.operands[v.index])
        elif isinstance(op, td.PrimLoopOp):
            self.loop_edges(op, v.index)
        elif isinstance(op, func.CallOp):
            self.call(op, v.index)
        elif name.startswith("torch.aten."):
            if name.split(".")[2] in VIEW_OPS:
                for x in op.operands:
                    if isinstance(x.type, td.ValueTensorType):
                        self.visit(x)
        else:  # list/tuple elements and anything else: whatever went into them
            self.note(f"an element of a list or tuple (`{name}`)")
            for x in op.operands:
                self.visit(x)

    def call(self, op: func.CallOp, k: int) -> None:
        """A call's result is fresh when the callee returns a fresh value there."""
        callee = self.mc.funcs.get(op.callee.string_value()) if self.mc is not None else None
        ret = callee.body.blocks[0].last_op if callee is not None else None
        inner = _Walk(self.mc, {})
        if ret is not None and k < len(ret.operands):
            inner.visit(ret.operands[k])
        else:
            inner.note("unknown")
        if inner.problem is not None:
            self.note(
                f"the result of calling `{op.callee.string_value()}`, which may be "
                f"{inner.problem.split(' (')[0]}"
            )
            for x in op.operands:
                self.visit(x)


def memory_of(v: SSAValue, fc: Any) -> tuple[set[SSAValue], str | None]:
    """The values whose memory `v` may be (itself included), and why it must not be updated
    in place (None: only tensors this function allocated)."""
    w = _Walk(fc.mc, _pending(fc))
    w.visit(v)
    return w.seen, w.problem


def is_update_method(name: str) -> bool:
    """`add_`, `clamp_`: an op's in-place form (not a dunder)."""
    return name.endswith("_") and not name.endswith("__") and len(name) > 1


def updated_root(call: ast.AST) -> ast.Name | None:
    """The variable an in-place method call updates: `x` in `x.add_(1)` and in
    `x.mul_(2).add_(1)` (each call returns x itself); None for anything else."""
    node = call
    while (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and is_update_method(node.func.attr)
    ):
        node = node.func.value
    return node if isinstance(node, ast.Name) and node is not call else None


def _leaves(v: Any) -> list[SSAValue]:
    if isinstance(v, SSAValue):
        return [v] if isinstance(v.type, td.ValueTensorType) else []
    if isinstance(v, (PyTuple, PyList)):
        return [x for item in v.items for x in _leaves(item)]
    return []


def update_refusal(fc: Any, v: SSAValue, names: set[str], how: str, node: ast.AST) -> None:
    """Raise a located error unless updating `v` in place (`how`) can be compiled as
    rebinding `names` (the names bound to `v` that the statement rebinds)."""
    mem, problem = memory_of(v, fc)
    why = None
    if problem is not None:
        why = problem
    else:
        for n, x in fc.env.items():
            for leaf in _leaves(x):
                if n in names and leaf is x:
                    continue
                other, _ = memory_of(leaf, fc)
                if other & mem:
                    why = f"a tensor that `{n}` also refers to (an alias, a view or the base of a view)"
                    break
            if why:
                break
    if why is not None:
        raise fc.error(
            node,
            f"unsupported: in-place `{how}` on {why}: scripted code rebinds the name to a new "
            "tensor, which an alias would not see; write it out of place (`x = x + y`)",
        )


def rebind_update(
    fc: Any, names: set[str], old: SSAValue, result: Any, how: str, node: ast.AST
) -> SSAValue:
    """`old` updated in place to `result` (`old += y` computed out of place): checked, cast
    back to `old`'s dtype as torch's in-place ops do, and bound to `names`; where other names
    alias it (views too), they see the update as alias_updates.py compiles it, or the update
    is refused."""
    try:
        update_refusal(fc, old, names, how, node)
        p = None
    except FrontendError:
        p = alias_updates.plan(fc, old, names, memory_of)
        if p is None:
            raise
        if isinstance(p, str):
            raise fc.error(node, f"unsupported: in-place `{how}` on a tensor whose {p}") from None
    _pending(fc)
    mem, _ = memory_of(old, fc)
    fc._inplace_updated.update(v for v in mem if isinstance(v, BlockArgument))
    new = _fit(fc, old, result, node)
    if p is not None:
        alias_updates.apply(fc, p, new, node)
        return new
    for n in names:
        fc.env[n] = new
    return new


def _fit(fc: Any, old: SSAValue, new: Any, node: ast.AST) -> SSAValue:
    """torch's checks of an in-place result: the shape stays, the dtype is `old`'s."""
    if not isinstance(new, SSAValue) or not isinstance(new.type, td.ValueTensorType):
        raise fc.error(node, "unsupported: an in-place update whose result is not a tensor")
    om, nm = old.type.meta, new.type.meta
    if om.shape is not None and nm.shape is not None:
        clash = len(nm.shape) > len(om.shape) or any(
            a is not None and b is not None and a != b
            for a, b in zip(reversed(om.shape), reversed(nm.shape), strict=False)
        )
        if clash:
            raise fc.error(
                node,
                f"output with shape {list(om.shape)} doesn't match the broadcast shape "
                f"{list(nm.shape)}",
            )
    if om.dtype is not None and nm.dtype is not None:
        if om.dtype == nm.dtype:
            return new
        if nm.dtype.kind > om.dtype.kind:  # torch's canCast: no float -> int, no number -> bool
            raise fc.error(
                node,
                f"result type {nm.dtype.name} can't be cast to the desired output type "
                f"{om.dtype.name}",
            )
        return fc.registry_call("to", [new, PyObj(om.dtype)], {}, node)  # type: ignore[no-any-return]
    if fc.mc.deferrable:  # compile per argument types, where the dtypes are known
        raise NeedsArgTypes("an in-place update needs the dtypes of its tensors", fc.loc(node))
    if not fc.mc.typed_calls and fc.mc.root is not None:
        # typed per call, but the tensor comes out of a submodule call compiled generically
        # (`out += self.shortcut(x)`): compile again with calls specialised too
        raise NeedsCallTypes("an in-place update needs the dtypes of its tensors", fc.loc(node))
    raise fc.error(node, "unsupported: an in-place update of a tensor of unknown dtype")


def check_loop_yields(
    fc: Any,
    block: Block,
    yields: list[SSAValue],
    outer_env: dict[str, Any],
    carried_leaf_names: list[str],
    node: ast.AST,
) -> None:
    """The back edge of a loop whose body updates carried values in place: the value carried
    into the next iteration must be fresh there too. Then the body is no longer pending."""
    updated = [k for k, a in enumerate(block.args[1 : 1 + len(yields)]) if a in fc._inplace_updated]
    try:
        _check_yields(fc, block, updated, yields, outer_env, carried_leaf_names, node)
    finally:
        _pending(fc).pop(block, None)


def _check_yields(
    fc: Any,
    block: Block,
    updated: list[int],
    yields: list[SSAValue],
    outer_env: dict[str, Any],
    carried_leaf_names: list[str],
    node: ast.AST,
) -> None:
    for k in updated:
        mem, problem = memory_of(yields[k], fc)
        why = problem
        if why is None:
            for j, y in enumerate(yields):
                if j != k and memory_of(y, fc)[0] & mem - {block.args[k + 1]}:
                    why = f"a tensor that `{carried_leaf_names[j]}` also refers to on the next iteration"
            for n, x in outer_env.items():
                if n in carried_leaf_names:
                    continue
                for leaf in _leaves(x):
                    if memory_of(leaf, fc)[0] & mem:
                        why = f"a tensor that `{n}` also refers to on the next iteration"
        if why is not None:
            raise fc.error(
                node,
                f"unsupported: in-place update of loop-carried `{carried_leaf_names[k]}`, which "
                f"is {why}: scripted code rebinds the name to a new tensor, which an alias "
                "would not see; write it out of place (`x = x + y`)",
            )
