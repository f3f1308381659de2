"""A str known only at run time, as one of the constants it may be: `mode = "a" if c else "b"`,
`return "pos" if ... else "neg"`.

str values are compile-time constants in this frontend (op arguments like `reduction='mean'`
must be). Where control flow joins different constants, the value becomes a `StrChoice`: an
`!torch.int` index into the option tuple fixed while compiling. `==`/`!=` with a constant
compare the index; a returned choice is an int result that the output structure (OutputSpec
kind "choice") maps back to its str. Anything that needs the str itself while compiling (an op
argument, `+`, `in`) is refused, located, by the code that needs it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from xdsl.ir import SSAValue

from xjit.frontends.script.values import PyObj


@dataclass
class StrChoice:
    index: SSAValue  # !torch.int: which option
    options: tuple[str, ...]

    def __repr__(self) -> str:  # (how error messages show it)
        return f"str known at run time (one of {', '.join(map(repr, self.options))})"


def is_str(v: Any) -> bool:
    return isinstance(v, StrChoice) or isinstance(v, PyObj) and isinstance(v.obj, str)


def options_of(v: Any) -> tuple[str, ...]:
    return v.options if isinstance(v, StrChoice) else (v.obj,)


def union(a: Any, b: Any) -> tuple[str, ...] | None:
    """The options of a join of two str values; None when the second's run-time index would
    need renumbering (its options are not where the union puts them)."""
    opts = list(options_of(a))
    for o in options_of(b):
        if o not in opts:
            opts.append(o)
    if isinstance(b, StrChoice) and tuple(opts[: len(b.options)]) != b.options:
        return None
    return tuple(opts)


def as_choice(fc: Any, v: Any, options: tuple[str, ...]) -> StrChoice:
    """`v` (a str constant or a choice whose options start `options`) over `options`. A
    constant's index is emitted where the builder is (before the join that uses it)."""
    if isinstance(v, StrChoice):
        assert options[: len(v.options)] == v.options
        return StrChoice(v.index, options)
    return StrChoice(fc.b.constant(options.index(v.obj)), options)


def join(
    fc: Any, a: Any, b: Any, node: Any, what: str, prefer: Any = None
) -> tuple[StrChoice, StrChoice]:
    """Two str values on two paths as choices over the same options (`prefer`'s, a loop-carried
    variable's, when both fit them)."""
    if isinstance(prefer, StrChoice) and all(
        fits(v, prefer.options) or v == prefer for v in (a, b)
    ):
        return as_choice(fc, a, prefer.options), as_choice(fc, b, prefer.options)
    opts = union(a, b)
    if opts is None:
        opts = union(b, a)
        if opts is None:
            raise fc.error(
                node,
                f"unsupported: {what} is a str whose possible values come in different "
                f"orders on different paths ({options_of(a)} and {options_of(b)})",
            )
    return as_choice(fc, a, opts), as_choice(fc, b, opts)


def compare(fc: Any, a: Any, b: Any, eq: bool, node: Any) -> Any:
    """`a == b` / `a != b` where one side is a choice: a bool value (a PyObj when the other
    side is no option at all)."""
    if isinstance(a, StrChoice) and isinstance(b, StrChoice):
        if a.options != b.options:
            raise fc.error(node, "unsupported: comparing two run-time str values")
        same = fc.scalar_op("aten.eq.int", [a.index, b.index], node)
    else:
        choice, const = (a, b) if isinstance(a, StrChoice) else (b, a)
        if const.obj not in choice.options:
            return PyObj(not eq)
        k = fc.b.constant(choice.options.index(const.obj))
        same = fc.scalar_op("aten.eq.int", [choice.index, k], node)
    return same if eq else fc.scalar_op("aten.__not__", [same], node)


def fits(v: Any, options: tuple[str, ...]) -> bool:
    """Whether `as_choice(v, options)` can take `v`."""
    if isinstance(v, StrChoice):
        return v.options != options and options[: len(v.options)] == v.options
    return isinstance(v, PyObj) and isinstance(v.obj, str) and v.obj in options


def loop_choice(fc: Any, v: Any, name: str, body: list[ast.stmt]) -> StrChoice:
    """A str variable a loop body may change, before the loop: a choice among its value and
    the str literals the body assigns to it."""
    opts = list(options_of(v))
    for node in (n for s in body for n in ast.walk(s)):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
            isinstance(t, ast.Name) and t.id == name
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        ):
            for c in ast.walk(node.value) if node.value is not None else ():
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value not in opts:
                    opts.append(c.value)
    return as_choice(fc, v, tuple(opts))


def rebuild_call(spec: Any, flat: list[Any], pos: int = 0) -> tuple[Any, int]:
    """`OutputSpec.rebuild` of a call's results in compiled code, a "choice" leaf (a callee's
    run-time str) as a StrChoice over its index."""
    if spec.kind == "choice":
        return StrChoice(flat[pos], tuple(spec.keys)), pos + 1
    if not _has_choice(spec):
        return spec.rebuild(flat, pos)
    items = []
    for c in spec.children:
        item, pos = rebuild_call(c, flat, pos)
        items.append(item)
    if spec.kind == "dict":
        return dict(zip(spec.keys, items, strict=True)), pos
    if spec.kind == "tuple":
        return (tuple(items) if spec.named is None else spec.named(*items)), pos
    return items, pos


def _has_choice(spec: Any) -> bool:
    return spec.kind == "choice" or any(_has_choice(c) for c in spec.children)
