"""`Optional[T]` values whose None-ness is decided at run time, as TorchScript has them.

A variable that is None on one path and a value on another (an `if` join, a loop-carried
variable, a function's `-> Optional[T]` result) is an `OptVal`: a `!torch.bool` saying whether
it holds a value, and a payload of T. Where it is None the payload is a placeholder of T's
dtype and rank (a zero-size tensor, a 0 scalar) that is never read: reading the payload needs
a refinement first (`if y is not None:`, `assert y is not None`, `y is None or ...`), which
binds the name to the payload inside the guarded code, as TorchScript refines
`Optional[T]` to `T`. No new IR: the pair is two SSA values that flow through `prim.If` /
`prim.Loop` as any other, and a function's Optional result is returned as the pair, which
the compiled-call wrapper turns back into None or the value (OutputSpec "optional")."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from xdsl.builder import InsertPoint
from xdsl.ir import Attribute, Block, SSAValue

from xjit.dialects import torch as td
from xjit.frontends.script.registry_ops import NeedsArgTypes
from xjit.frontends.script.values import (
    OptVal,
    PyDict,
    PyList,
    PyObj,
    PyTuple,
    describe,
    join_types,
    resolve_annotation,
    type_name,
)
from xjit.frontends.signature import OutputSpec

# name -> the value it is refined to, when a condition is true / when it is false
Refinement = dict[str, SSAValue]

_SCALAR_ZERO = {td.IntType: 0, td.FloatType: 0.0, td.BoolType: False}


def is_none_value(v: Any) -> bool:
    return isinstance(v, SSAValue) and isinstance(v.type, td.NoneType)


def is_plain_value(v: Any) -> bool:
    """A value an Optional can hold: a tensor or a scalar (not None, not a container)."""
    return isinstance(v, SSAValue) and isinstance(
        v.type, (td.ValueTensorType, td.IntType, td.FloatType, td.BoolType)
    )


class WidenOptional(Exception):
    """A loop-carried variable None before the loop holds a value after an iteration: the
    loop is compiled again carrying it as an Optional of `payload_type`."""

    def __init__(self, name: str, payload_type: Attribute) -> None:
        self.name, self.payload_type = name, payload_type


class Optionals:
    """FunctionCompiler's run-time Optionals (compiler.py holds the state: `b`, `env`,
    `refinements`)."""

    def is_optional_annotation(self, ann: ast.expr) -> bool:
        """Whether a variable's annotation is `Optional[...]` (it may then be set to None)."""
        try:
            t = resolve_annotation(ast.unparse(ann), self.globals)
        except Exception:  # noqa: BLE001  (not an Optional: the assignment checks the value)
            return False
        return isinstance(t, tuple) and t[0] == "optional"

    # -- refinement -----------------------------------------------------------------------------
    def optional_test(self, opt: OptVal, name: str | None, is_none: bool, node: ast.AST) -> Any:
        """`y is None` (is_none) or `y is not None` of a run-time Optional: its flag, and the
        refinement of `y` to its payload where the test says it is not None."""
        known = td._meta_or_const(opt.present)
        if isinstance(known, bool):  # decided while compiling
            if known and name is not None:  # it holds its value everywhere after this
                self.env[name] = opt.payload
            return PyObj(known != is_none)
        c = opt.present if not is_none else self.scalar_op("aten.__not__", [opt.present], node)
        if name is not None:
            ref = {name: opt.payload}
            self.refinements[c] = ({}, ref) if is_none else (ref, {})
        return c

    def refinement(self, c: Any, truth: bool) -> Refinement:
        """What a condition's outcome `truth` refines (the names bound to payloads)."""
        pair = self.refinements.get(c) if isinstance(c, SSAValue) else None
        return dict(pair[0 if truth else 1]) if pair is not None else {}

    def note_refinement(self, c: Any, when_true: Refinement, when_false: Refinement) -> None:
        if isinstance(c, SSAValue) and (when_true or when_false):
            self.refinements[c] = (when_true, when_false)

    def apply_refinement(self, ref: Refinement) -> None:
        """Bind each refined name to its payload (in the current region's env)."""
        for n, payload in ref.items():
            cur = self.env.get(n)
            if isinstance(cur, OptVal) and cur.payload is payload:
                self.env[n] = payload

    def refined(self, ref: Refinement, fn: Callable[[], Any]) -> Callable[[], Any]:
        """`fn` run with `ref` applied first (a region's body)."""

        def run() -> Any:
            self.apply_refinement(ref)
            return fn()

        return run

    def undo_refinements(
        self, before: dict[str, Any], envs: list[tuple[dict[str, Any], Refinement]]
    ) -> None:
        """Names only refined (not assigned) in every branch stay the Optional they were, so
        the branches' join does not carry them."""
        names = {n for _, ref in envs for n in ref}
        for n in names:
            if all(env.get(n) is before.get(n) or env.get(n) is ref.get(n) for env, ref in envs):
                for env, _ in envs:
                    if n in env:
                        env[n] = before.get(n)

    # -- loops ----------------------------------------------------------------------------------
    def carried_optional(self, n: str, v: Any, template: Any, node: ast.AST) -> Any:
        """A loop-carried variable's value at an exit of the body, as its template carries it."""
        if isinstance(template, OptVal) and (is_none_value(v) or is_plain_value(v)):
            return self.as_optional(v, template.payload.type, node)
        if is_none_value(template) and (isinstance(v, OptVal) or is_plain_value(v)):
            raise WidenOptional(n, _payload_type(v))  # type: ignore[arg-type]
        return v

    # -- `-> Optional[T]` results ---------------------------------------------------------------
    def optional_result(self, v: Any, node: ast.AST) -> OptVal:
        """A returned value of a function annotated `-> Optional[T]`, as (present, T)."""
        want = self.opt_return
        if isinstance(v, OptVal) or is_plain_value(v):
            t = _payload_type(v)
            if join_types(want, t) is None:  # type: ignore[arg-type]
                raise self.error(
                    node,
                    f"type clash: returning a {describe(v)} from a function annotated "
                    f"-> Optional[{type_name(want)}]",
                )
            seen = self.opt_return_seen
            self.opt_return_seen = t if seen is None else join_types(seen, t) or seen
            return self.as_optional(v, t, node)  # type: ignore[arg-type]
        if not is_none_value(v):
            raise self.error(
                node,
                f"type clash: returning a {describe(v)} from a function annotated "
                f"-> Optional[{type_name(want)}]",
            )
        return self.none_result(node)

    def none_result(self, node: ast.AST) -> OptVal:
        """`return None` from a function annotated `-> Optional[T]`. A tensor payload's
        placeholder takes the dtype and rank of the values returned: when no value return was
        compiled yet, the payload is left None (`pending`) and the function is compiled again
        once they are known (compiler.py)."""
        want = self.opt_return
        t = want if not isinstance(want, td.ValueTensorType) else None
        t = t or self.opt_return_hint or self.opt_return_seen
        if t is None:
            self.opt_pending = True
            return OptVal(self.b.constant(False), self.b.constant(None))
        return OptVal(self.b.constant(False), self.optional_placeholder(t, node))

    def return_none(self, node: ast.AST) -> list[SSAValue]:
        """The exit payload of returning None (`return`, `return None`, the end reached)."""
        flat, spec = self.flatten(self.none_result(node), node)
        return self.return_values(flat, spec, node)

    def pending_placeholder(self, t: Attribute, v: SSAValue) -> bool:
        """Whether `v` (or the type `t` it joins) is a None payload left for the next compile."""
        return self.opt_pending and (isinstance(t, td.NoneType) or isinstance(v.type, td.NoneType))

    # -- joins ----------------------------------------------------------------------------------
    def needs_optional_join(self, a: Any, b: Any) -> bool:
        """Whether two values of one variable on two paths join as an Optional."""
        kinds = {_kind(a), _kind(b)}
        return None not in kinds and len(kinds) > 1

    def optional_join(
        self, a: Any, b: Any, blocks: tuple[Block, Block], node: ast.AST
    ) -> tuple[OptVal, OptVal]:
        """`a` (at the end of blocks[0]) and `b` (of blocks[1]) as Optionals of one payload
        type: a None becomes (false, placeholder), a value (true, value)."""
        t = _payload_type(a) or _payload_type(b)
        assert t is not None
        return (
            self.in_block(blocks[0], lambda: self.as_optional(a, t, node)),
            self.in_block(blocks[1], lambda: self.as_optional(b, t, node)),
        )

    def as_optional(self, v: Any, t: Attribute, node: ast.AST) -> OptVal:
        """`v` (None, a value or an OptVal) as an OptVal, building at the insertion point;
        `t` is the payload type a None's placeholder takes."""
        if isinstance(v, OptVal):
            return v
        if is_none_value(v):
            return OptVal(self.b.constant(False), self.optional_placeholder(t, node))
        return OptVal(self.b.constant(True), v)

    def in_block(self, block: Block, fn: Callable[[], Any]) -> Any:
        """`fn` with the builder at the end of `block` (an unterminated branch)."""
        saved = self.b.builder.insertion_point
        self.b.builder.insertion_point = InsertPoint.at_end(block)
        try:
            return fn()
        finally:
            self.b.builder.insertion_point = saved

    def optional_placeholder(self, t: Attribute, node: ast.AST) -> SSAValue:
        """A value of `t` standing for an absent payload (never read): a scalar 0, a zero-size
        tensor of t's dtype and rank."""
        if type(t) in _SCALAR_ZERO:
            return self.b.constant(_SCALAR_ZERO[type(t)])
        if isinstance(t, td.ValueTensorType):
            meta = t.meta
            if meta.shape is not None and meta.dtype is not None:
                sizes = PyList([self.b.constant(0) for _ in meta.shape])
                return self.registry_call("zeros", [sizes], {"dtype": PyObj(meta.dtype)}, node)
            # Rank or dtype unknown (a generic graph): a tensor in scope of a compatible type
            # stands for it, the closest first (never read; a call compiles again for its
            # argument types, where t is exact)
            cands = [
                v
                for x in self.env.values()
                for v in ([x] if isinstance(x, SSAValue) else [])
                if isinstance(v.type, td.ValueTensorType) and td.types_compatible(v.type, t)
            ]
            cands.sort(key=lambda v: (v.type != t, v.type.element_dtype != t.element_dtype))
            if cands:
                self.mc.needs_arg_types = True
                return cands[0]
            if self.mc.deferrable:  # once the call's argument types are known, t is exact
                raise NeedsArgTypes(
                    "an Optional[Tensor] of unknown rank or dtype needs a placeholder",
                    self.loc(node),
                )
        raise self.error(
            node,
            f"unsupported: an Optional[{type_name(t)}] whose value's rank and dtype are not "
            "known while compiling",
        )


def rebuild_results(
    spec: OutputSpec, flat: list[SSAValue], other: Any = None, pos: int = 0
) -> tuple[Any, int]:
    """`spec.rebuild` over a call's SSA results, an "optional" as the OptVal it returns (its
    None-ness is known at run time only); parts without one rebuilt by `other(spec, flat,
    pos)` (a run-time str's, str_choice.rebuild_call) if given."""
    if spec.kind == "optional":
        return OptVal(flat[pos], flat[pos + 1]), pos + 2
    if not _has_optional(spec):
        return spec.rebuild(flat, pos) if other is None else other(spec, flat, pos)
    items = []
    for c in spec.children:
        item, pos = rebuild_results(c, flat, other, pos)
        items.append(item)
    if spec.kind == "dict":
        return PyDict(dict(zip(spec.keys, items, strict=True))), pos
    return (PyTuple(items) if spec.kind == "tuple" else PyList(items)), pos


def _has_optional(spec: OutputSpec) -> bool:
    return spec.kind == "optional" or any(_has_optional(c) for c in spec.children)


def _kind(v: Any) -> str | None:
    if is_none_value(v):
        return "none"
    if isinstance(v, OptVal):
        return "optional"
    return "value" if is_plain_value(v) else None


def _payload_type(v: Any) -> Attribute | None:
    if isinstance(v, OptVal):
        return v.payload.type
    return v.type if is_plain_value(v) else None
