"""The refusal of ops that xjit runs eagerly but does not compile (linalg decompositions, special
functions math has no op for, data-sized results): a trace and a script refuse them at the
user's line through the entry's `data_dependent` attr (frontends/trace.py, script), and the
entry's lowering refuses an op that reached the IR some other way (xjit-opt on a text file)."""

from __future__ import annotations

from typing import Any

NOT_COMPILED = (
    "aten::{op} is not supported by the compiler (run it eagerly, outside the traced or "
    "scripted code)"
)


def eager_only(op: str) -> dict[str, Any]:
    """The `register` keywords of an eager-only op named `op` (its aten name)."""
    why = NOT_COMPILED.format(op=op)

    def lower(builder: Any, *args: Any) -> Any:
        raise NotImplementedError(why)

    return {"lower": lower, "attrs": {"data_dependent": why}}
