"""Traced methods with guards and nested structures in an `.xjit` archive (format version 5).

A trace may hold *guards* (values it froze: Python control flow on a tensor, sizes used as
Python ints, frontends/trace.py `Guard`), take nested tuples/lists/dicts of tensors, and return
dicts. The manifest records, per such method, `argument_structure` (one structure per Python
argument, spelled as `output_structure`) and `guards` (what was frozen, where, the value it had,
and how it is checked). After loading, the method is a `TracedFunction` again: called like the
original, its guards checked on every call, raising the same `TraceGuardError` naming the source
line (whose text is saved: the model's source need not exist where the archive is loaded).

A size guard's check is a Python expression over the arguments' sizes (`(a0.shape[0] > 2)`),
which the traced function compiles. From an archive it is untrusted text: it is parsed and
accepted only if it is made of argument sizes, int literals, `+ - * // %`, unary minus and one
comparison, then rebuilt from its syntax tree (ast.unparse), so nothing else can run.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from xjit.frontends.signature import OutputSpec
from xjit.frontends.trace import Guard
from xjit.jit.api import GuardedOutputs, StructuredTrace, TracedFunction, _has_dict
from xjit.jit.archive_format import (
    _DTYPES,
    MANIFEST,
    ArchiveError,
    _spec_from_py,
    _spec_leaves,
    _spec_to_py,
)

_GUARD_KINDS = ("bool", "int", "float", "item", "tolist", "array")
_MAX_EXPR = 10_000  # characters of one size expression
_MAX_ARRAY = 1 << 20  # elements of a frozen `numpy()` value


@dataclass
class SavedGuard(Guard):
    """A guard read from an archive: the source line's text travels with it."""

    text: str = ""

    def source_line(self) -> str:
        return self.text


# -- save ------------------------------------------------------------------------------------------


def plain_output_spec(spec: Any) -> OutputSpec:
    """The structure of every flat result (user results, then hidden guard values) as a plain
    OutputSpec: `(user, (t, ...))` when there are hidden guard values."""
    if isinstance(spec, GuardedOutputs):
        user, hidden = spec.children
        return OutputSpec("tuple", (user, hidden))
    if isinstance(spec, StructuredTrace):
        return spec.spec  # type: ignore[no-any-return]
    return spec  # type: ignore[no-any-return]


def _encode_value(v: Any, where: str) -> Any:
    """A frozen value as JSON: `["bool", true]`, `["float", "nan"]`, `["list", ...]`,
    `["array", dtype, shape, [values...]]`."""
    if isinstance(v, np.ndarray):
        if v.dtype.name not in _DTYPES:
            raise ArchiveError(f"cannot save: {where} froze an array of dtype {v.dtype}")
        flat = [_encode_value(x, where)[1] for x in v.reshape(-1).tolist()]
        return ["array", v.dtype.name, list(v.shape), flat]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", v]
    if isinstance(v, float):
        return ["float", repr(v)]  # exact, and nan/inf are not JSON
    if isinstance(v, (list, tuple)):
        return ["list", *(_encode_value(x, where) for x in v)]
    raise ArchiveError(f"cannot save: {where} froze a {type(v).__name__} value")


def trace_record(cf: TracedFunction) -> dict[str, Any]:
    """The manifest fields of a traced method with guards or nested structures."""
    guards = []
    for g in cf.guards:
        where = f"the trace guard at {g.where}"
        guards.append(
            {
                "what": g.what,
                "file": g.file,
                "line": g.line,
                "source": g.source_line(),
                "expected": _encode_value(g.expected, where),
                "expr": g.expr,
                "kind": g.kind,
            }
        )
    return {
        "argument_structure": [_spec_to_py(s) for s in cf.in_specs],
        "guards": guards,
    }


# -- load ------------------------------------------------------------------------------------------


def _decode_value(v: Any, bad: ArchiveError, depth: int = 0) -> Any:
    if depth > 100 or not isinstance(v, list) or not v:
        raise bad
    tag = v[0]
    if tag == "list":
        return [_decode_value(x, bad, depth + 1) for x in v[1:]]
    if tag == "array":
        if len(v) != 4 or v[1] not in _DTYPES or not isinstance(v[2], list) or len(v[2]) > 64:
            raise bad
        shape = v[2]
        if not all(type(d) is int and d >= 0 for d in shape) or not isinstance(v[3], list):
            raise bad
        n = math.prod(shape)
        if n > _MAX_ARRAY or len(v[3]) != n:
            raise bad
        dtype = np.dtype(v[1])
        scalar = "float" if dtype.kind == "f" else "bool" if dtype.kind == "b" else "int"
        values = [_decode_value([scalar, x], bad, depth + 1) for x in v[3]]
        return np.array(values, dtype=dtype).reshape(shape)
    if len(v) != 2:
        raise bad
    x = v[1]
    if tag == "bool" and type(x) is bool:
        return x
    if tag == "int" and type(x) is int:
        return x
    if tag == "float" and type(x) is str:
        try:
            return float(x)  # parses numbers (and nan/inf) only
        except ValueError:
            raise bad from None
    raise bad


_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def _checked_expr(text: Any, ranks: list[int | None], bad: ArchiveError) -> str:
    """The size expression of a guard, if it only reads argument sizes (rebuilt from its tree)."""
    if not isinstance(text, str) or len(text) > _MAX_EXPR:
        raise bad
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise bad from None

    def ok(e: ast.AST, top: bool) -> bool:
        if isinstance(e, ast.Constant):
            return type(e.value) is int
        if isinstance(e, ast.UnaryOp):
            return isinstance(e.op, ast.USub) and ok(e.operand, False)
        if isinstance(e, ast.BinOp):
            return isinstance(e.op, _BINOPS) and ok(e.left, False) and ok(e.right, False)
        if isinstance(e, ast.Compare):
            return (
                top
                and len(e.ops) == 1
                and isinstance(e.ops[0], _CMPOPS)
                and ok(e.left, False)
                and ok(e.comparators[0], False)
            )
        if isinstance(e, ast.Subscript):  # a<i>.shape[<d>]
            v, d = e.value, e.slice
            if not (
                isinstance(v, ast.Attribute)
                and v.attr == "shape"
                and isinstance(v.value, ast.Name)
                and v.value.id.startswith("a")
                and v.value.id[1:].isdigit()
                and isinstance(d, ast.Constant)
                and type(d.value) is int
            ):
                return False
            i = int(v.value.id[1:])
            rank = ranks[i] if i < len(ranks) else -1
            return rank is None or 0 <= d.value < rank
        return False

    try:
        accepted = ok(tree.body, True)
    except RecursionError:
        accepted = False
    if not accepted:
        raise bad
    return ast.unparse(tree.body)


def _decode_guard(qname: str, i: int, d: Any, ranks: list[int | None]) -> SavedGuard:
    bad = ArchiveError(f"{MANIFEST}: malformed trace guard {i} of method {qname}")
    keys = {"what", "file", "line", "source", "expected", "expr", "kind"}
    if not isinstance(d, dict) or set(d) != keys or d["kind"] not in _GUARD_KINDS:
        raise bad
    if not all(isinstance(d[k], str) for k in ("what", "file", "source")):
        raise bad
    if type(d["line"]) is not int or d["line"] < 0:
        raise bad
    expected = _decode_value(d["expected"], bad)
    expr = None
    if d["expr"] is not None:
        expr = _checked_expr(d["expr"], ranks, bad)
        if type(expected) not in (bool, int):
            raise bad
    elif d["kind"] == "array" and not isinstance(expected, np.ndarray):
        raise bad
    return SavedGuard(d["what"], d["file"], d["line"], expected, expr, d["kind"], d["source"])


@dataclass
class TraceFields:
    """A traced method's argument structure and guards, decoded and checked against its IR."""

    in_specs: list[Any]
    user_spec: Any
    guards: list[SavedGuard]
    output_spec: Any  # what the compiled function rebuilds its flat results with

    def setup(self, cf: TracedFunction, qname: str) -> TracedFunction:
        cf._setup(
            self.in_specs, self.user_spec, self.guards, _no_eager(qname), "error", cf.arg_names
        )
        return cf


def trace_fields(qname: str, sig: dict[str, Any], fop: Any) -> TraceFields | None:
    """The version-5 fields of traced method `qname` (None if it has none), checked: one tensor
    leaf per IR argument, guards well-formed with safe size expressions, the guard values as the
    last results of the function."""
    if "argument_structure" not in sig and "guards" not in sig:
        return None
    ins = fop.function_type.inputs.data
    outs = fop.function_type.outputs.data
    raw = sig.get("argument_structure")
    if not isinstance(raw, list) or len(raw) > len(ins) + 1000:
        raise ArchiveError(f"{MANIFEST}: malformed argument_structure of method {qname}")
    what = f"argument structure of method {qname}"
    in_specs = [_spec_from_py(d, what=what) for d in raw]
    if any(_has_none(s) for s in in_specs) or sum(map(_spec_leaves, in_specs)) != len(ins):
        raise ArchiveError(f"{MANIFEST}: the {what} disagrees with its IR")
    raw_guards = sig.get("guards")
    if not isinstance(raw_guards, list):
        raise ArchiveError(f"{MANIFEST}: malformed guards of method {qname}")
    ranks = [None if t.meta.shape is None else len(t.meta.shape) for t in ins]
    guards = [_decode_guard(qname, i, g, ranks) for i, g in enumerate(raw_guards)]
    n_hidden = sum(1 for g in guards if g.expr is None)
    full = _spec_from_py(sig.get("output_structure"))
    user = full
    if n_hidden:
        if (
            full.kind != "tuple"
            or len(full.children) != 2
            or full.children[1].kind != "tuple"
            or [c.kind for c in full.children[1].children] != ["tensor"] * n_hidden
        ):
            raise ArchiveError(
                f"{MANIFEST}: the output structure of method {qname} does not hold its "
                f"{n_hidden} guard values"
            )
        user = full.children[0]
    if _spec_leaves(full) != len(outs):
        raise ArchiveError(f"{MANIFEST}: the output structure of method {qname} disagrees")
    spec: Any = user
    if n_hidden:
        spec = GuardedOutputs(user, n_hidden)
    elif _has_dict(user) or any(s.kind != "tensor" for s in in_specs):
        spec = StructuredTrace(user)
    return TraceFields(in_specs, user, guards, spec)


def _has_none(spec: Any) -> bool:
    return spec.kind == "none" or any(_has_none(c) for c in spec.children)


def _no_eager(qname: str) -> Any:
    def eager(*args: Any) -> Any:  # guard_fallback is "error" after loading: never called
        raise ArchiveError(f"{qname}: a loaded trace has no Python code to fall back to")

    return eager
