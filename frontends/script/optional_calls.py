"""A call given a run-time `Optional[T]` (an `OptVal`, optionals.py): compiled as TorchScript
runs it, once with the value and once with None, chosen by the Optional's flag:

    f(x, w)  ->  prim.If w.present { f(x, w.payload) } else { f(x, None) }

so a callee (a scripted function or method, or an op with an `Optional[Tensor]` parameter such
as `group_norm`'s weight) sees a plain value or a None while compiling, as it would for an
argument decided at compile time. The two results join as an `if`'s do."""

from __future__ import annotations

import ast
from typing import Any

from xdsl.ir import Region

from xjit.dialects import torch as td
from xjit.errors import FrontendError
from xjit.frontends.script.lists import Unrollable
from xjit.frontends.script.registry_ops import NeedsArgTypes, NeedsCallTypes
from xjit.frontends.script.statements import leaves_of, rebuild_like, same_structure
from xjit.frontends.script.values import OptVal, describe


def has_optional_argument(args: list[Any], kwargs: dict[str, Any]) -> bool:
    return any(isinstance(v, OptVal) for v in [*args, *kwargs.values()])


class OptionalCalls:
    """FunctionCompiler's calls with run-time Optional arguments (compiler.py holds the state)."""

    def split_optional_call(
        self, callee: Any, args: list[Any], kwargs: dict[str, Any], e: ast.AST
    ) -> Any:
        """The call with its first Optional argument as its value where it holds one and as
        None elsewhere (further Optional arguments split inside each branch)."""
        pos: Any = next((k for k, v in enumerate(args) if isinstance(v, OptVal)), None)
        if pos is None:
            pos = next(k for k, v in kwargs.items() if isinstance(v, OptVal))
        opt = args[pos] if isinstance(pos, int) else kwargs[pos]

        def call_with(v: Any) -> Any:
            a, kw = list(args), dict(kwargs)
            if isinstance(pos, int):
                a[pos] = v
            else:
                kw[pos] = v
            return self.call_parts(callee, a, kw, e)

        def call_with_none() -> Any:
            try:
                return call_with(self.b.constant(None))
            except (NeedsArgTypes, NeedsCallTypes, Unrollable):
                raise
            except FrontendError as err:  # say why a None reached the callee
                note = (
                    f"{self.loc(e)}: note: compiled for its run-time Optional argument being "
                    "None (refine it first with `is not None`)"
                )
                raise FrontendError(err.message, err.loc, (*err.chain, note)) from None

        tb, tv, _ = self.region(lambda: call_with(opt.payload))
        eb, ev, _ = self.region(call_with_none)
        if self.needs_optional_join(tv, ev):  # None for None: an Optional result
            tv, ev = self.optional_join(tv, ev, (tb, eb), e)
        lt, le = leaves_of(tv), leaves_of(ev)
        if lt is None or le is None or not same_structure(tv, ev):
            raise self.error(
                e,
                f"unsupported: this call gives a {describe(tv)} for a value and a "
                f"{describe(ev)} for None in its Optional argument (refine the argument first)",
            )
        self.at(e)
        types = self.yield_joined(
            [(tb, lt), (eb, le)], e, lambda i: f"result {i}", lambda vs: td.PrimIfYieldOp(*vs)
        )
        op = self.b.insert(td.PrimIfOp(opt.present, types, Region(tb), Region(eb)))
        return rebuild_like(tv, iter(op.results))
