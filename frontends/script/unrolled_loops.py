"""`break`, `continue` and `return` inside a `for` over a list, tuple or ModuleList (or an
`enumerate`/`zip` of them), which is unrolled at compile time: its items may differ in type.

Each iteration becomes a `prim.Loop` of (at most) one trip, so an exit inside it is compiled
exactly as in a `range` loop (statements.py): `continue` ends the trip, `return` sets the loop's
"returned" flag and values. A `break` also clears a hidden loop-carried bool, "alive", which is
the next iterations' initial loop condition, so they run no trip once a break happened. After an
iteration that may return, the flag chooses between returning and compiling the following
iterations and the statements after the loop (the continuation), as `loop_with_return` does.

TorchScript itself refuses `break`/`continue` in loops over tuples and ModuleLists (it unrolls
them too); this matches Python's semantics there, the tests check against eager PyTorch.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xdsl.ir import Region, SSAValue

from xjit.dialects import torch as td


@dataclass
class Unrolled:
    """What `for_stmt` gives for an unrolled loop with a `return` inside, compiled with the
    statements after it: the exit payload (None: falls through)."""

    payload: list[SSAValue] | None


class UnrolledLoops:
    """Statements' half for unrolled loops with exits (needs its `loop`, `block`, `region`)."""

    def unrolled_for(
        self, st: ast.For, items: Sequence[Any], rest: list[ast.stmt] | None, breaks: bool
    ) -> list[SSAValue] | None:
        """Compile the loop over `items` (`breaks`: its body holds a `break` of its own); with
        a `return` inside (`rest` given), also the statements after it: the exit payload."""
        alive = None
        if breaks:
            alive = f"$alive{self.depth}"  # type: ignore[attr-defined]
            self.env[alive] = self.b.constant(True)  # type: ignore[attr-defined]
        try:
            return self._iterations(st, items, 0, alive, rest)
        finally:
            if alive is not None:
                self.env.pop(alive, None)  # type: ignore[attr-defined]

    def _iterations(
        self,
        st: ast.For,
        items: Sequence[Any],
        start: int,
        alive: str | None,
        rest: list[ast.stmt] | None,
    ) -> list[SSAValue] | None:
        for k in range(start, len(items)):
            init = self.env[alive] if alive is not None else self.b.constant(True)  # type: ignore[attr-defined]
            if td._meta_or_const(init) is False:  # a break that always happens: done
                break
            self.at(st)  # type: ignore[attr-defined]
            got = self.loop(  # type: ignore[attr-defined]
                st,
                self.b.constant(1),  # type: ignore[attr-defined]
                init,
                st.target,
                lambda _idx, item=items[k]: item,
                None,
                alive=alive,
            )
            if got is None:
                continue
            flag, slots, spec = got  # a return may have happened in this iteration
            self.at(st)  # type: ignore[attr-defined]
            tb, tp, _ = self.region(lambda s=slots, p=spec: self.return_values(s, p, st))  # type: ignore[attr-defined]
            eb, ep, _ = self.region(  # type: ignore[attr-defined]
                lambda k=k: self.finish_exit(  # type: ignore[attr-defined]
                    self._iterations(st, items, k + 1, alive, rest), st
                )
            )
            if len(tp) != len(ep):
                raise self.error(st, "type clash: the paths return different numbers of values")  # type: ignore[attr-defined]
            types = self.yield_joined(  # type: ignore[attr-defined]
                [(tb, tp), (eb, ep)],
                st,
                lambda i: f"exit value {i}",
                lambda vs: td.PrimIfYieldOp(*vs),
            )
            op = self.b.insert(td.PrimIfOp(flag, types, Region(tb), Region(eb)))  # type: ignore[attr-defined]
            return list(op.results)
        return None if rest is None else self.block(rest)  # type: ignore[attr-defined]
