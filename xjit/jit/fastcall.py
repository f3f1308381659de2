"""The per-call path of a compiled function, specialised once per function.

`make_call(cf)` returns a small closure, generated as Python source for `cf`'s arity and output
structure, that does only what a call needs: unwrap the Tensors, call the generated numpy
function (whose own guard checks dtypes and shapes), and wrap the results (one Tensor per
distinct array, rebuilt into the traced return structure) — no loops, no `isinstance`, no
`Tensor.__init__`. Anything unusual (a wrong argument count, a non-Tensor, a shape the guard
rejects, a variant to dispatch to) raises inside the `try`, and the call is redone by
`CompiledFunction.__call__`, which owns the diagnosis (`ArgumentError` naming the argument) and
the dispatch to shape variants. The generated numpy function has no side effects on its
arguments, so redoing a call that failed is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xjit._tensor import Tensor

# Output positions up to which identical arrays are found by pairwise `is` tests; larger
# results go through `CompiledFunction.__call__` (which dedupes with a loop).
_MAX_PAIRWISE = 6


def _leaves(spec: Any) -> int:
    return 1 if spec.kind in ("tensor", "choice") else sum(_leaves(c) for c in spec.children)


def _rebuild_src(spec: Any, k: list[int], named: dict[str, Any]) -> str:
    if spec.kind == "tensor":
        k[0] += 1
        return f"t{k[0] - 1}"
    if spec.kind == "const":  # a script's str result, known while compiling
        return repr(spec.keys[0])
    if spec.kind == "choice":  # a script's str result chosen at run time: an index
        k[0] += 1
        return f"{tuple(spec.keys)!r}[int(t{k[0] - 1})]"
    items = [_rebuild_src(c, k, named) for c in spec.children]
    if spec.kind == "tuple" and getattr(spec, "named", None) is not None:
        name = f"N{len(named)}"  # a named tuple's class (sort's (values, indices)), as eager
        named[name] = spec.named
        return f"{name}({', '.join(items)})"
    if spec.kind == "tuple":
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    if spec.kind == "list":
        return f"[{', '.join(items)}]"
    raise ValueError(f"unknown output kind {spec.kind!r}")


def make_call(cf: Any) -> Callable[..., Any]:
    """The fast call of `cf` (a `CompiledFunction`); falls back to `cf(*args)` on any error."""
    n_args, spec = len(cf.input_metas), cf.output_spec
    n_out = _leaves(spec)
    if n_out > _MAX_PAIRWISE:
        return cf.__call__
    args = [f"a{i}" for i in range(n_args)]
    outs = [f"o{j}" for j in range(n_out)]
    unpack = (
        f"        {', '.join(args)}{',' if n_args == 1 else ''} = args"
        if n_args
        else "        if args: raise TypeError"
    )
    call = f"fn({', '.join(a + '._a' for a in args)})"
    lines = [
        "def call(*args):",
        "    if EP[0] != B: return slow(*args)  # something was rebound: CompiledFunction._rebind",
        "    try:",
        unpack,
        f"        {', '.join(outs)}{',' if n_out == 1 else ''} = {call}"
        if n_out
        else f"        {call}",
        "    except (AttributeError, TypeError, ValueError):",
        "        return slow(*args)  # diagnosis (ArgumentError) or a shape variant",
    ]
    for j in range(n_out):
        same = [f"o{j} is o{i}" for i in range(j)]
        if not same:
            lines.append(f"    t{j} = new(T); t{j}._a = o{j}")
            continue
        for i in range(j):
            kw = "if" if i == 0 else "elif"
            lines.append(f"    {kw} o{j} is o{i}: t{j} = t{i}")
        lines.append(f"    else: t{j} = new(T); t{j}._a = o{j}")
    named: dict[str, Any] = {}
    lines.append(f"    return {_rebuild_src(spec, [0], named)}")
    ns: dict[str, Any] = {"fn": cf._fn, "slow": cf.__call__, "new": object.__new__, "T": Tensor}
    ns.update(named)
    cf.register_fast_path(ns)  # EP, B; `fn` is replaced when parameters are rebound
    exec(compile("\n".join(lines) + "\n", f"<xjit-call {cf.name}>", "exec"), ns)  # noqa: S102
    fast = ns["call"]
    fast.__xjit_source__ = "\n".join(lines)  # type: ignore[attr-defined]
    return fast  # type: ignore[no-any-return]
