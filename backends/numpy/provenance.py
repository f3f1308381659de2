"""Which user source lines a loop nest computes, as a comment for the generated numpy code.

Frontends give each torch op a location (`loc("model.py":42:8)`); lowering wraps it in the
op's name (`loc("aten.tanh"("model.py":42:8))`), decomposition nests those names, and fusion
fuses them (`loc(fused[...])`). The comment names the op the user wrote (the innermost name)
with its line: `# model.py:42 tanh; model.py:43 add.Tensor, mul.Scalar`.
"""

from __future__ import annotations

import os

from xdsl.dialects.builtin import FileLineColLoc, FusedLoc, NameLoc
from xdsl.ir import Attribute


def _origins(loc: Attribute | None, name: str | None = None) -> list[tuple[str, str]]:
    """(file:line, op name) pairs of a location, in order."""
    if isinstance(loc, FusedLoc):
        return [o for part in loc.locations.data for o in _origins(part, name)]
    if isinstance(loc, NameLoc):
        return _origins(loc.location, loc.desc.data.removeprefix("aten."))
    if isinstance(loc, FileLineColLoc) and name is not None:
        return [(f"{os.path.basename(loc.filename.data)}:{loc.line.data}", name)]
    return []


def source_comment(loc: Attribute | None) -> str | None:
    """`# file:line op, op; file:line op` for the ops behind `loc`, or None without lines."""
    by_line: dict[str, list[str]] = {}
    for where, name in _origins(loc):
        names = by_line.setdefault(where, [])
        if name not in names:
            names.append(name)
    if not by_line:
        return None
    return "# " + "; ".join(f"{where} {', '.join(names)}" for where, names in by_line.items())
