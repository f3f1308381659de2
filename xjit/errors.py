"""Errors and warnings of the compiler frontends and `xjit.jit` (no compiler imports: eager code
raises and warns with them too; `xjit.jit` re-exports them)."""

from __future__ import annotations

import linecache
import math
from dataclasses import dataclass
from typing import Any


class TracerWarning(UserWarning):
    """A trace froze something that depends on tensor values (e.g. Python control flow)."""


@dataclass(frozen=True)
class SourceLoc:
    file: str
    line: int
    col: int  # 1-based, as compilers print it

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def excerpt(self) -> str:
        """The source line with a caret under the column."""
        text = linecache.getline(self.file, self.line).rstrip("\n")
        if not text:
            return ""
        return f"    {text}\n    {' ' * (self.col - 1)}^"


class FrontendError(Exception):
    """Python code that `xjit.jit.script` cannot compile: says where (file:line:col, the line with
    a caret), what is unsupported or ill-typed, and through which calls it was reached."""

    def __init__(
        self, message: str, loc: SourceLoc | None = None, chain: tuple[str, ...] = ()
    ) -> None:
        self.message = message
        self.loc = loc
        self.chain = chain
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"{self.loc}: error: {self.message}" if self.loc else f"error: {self.message}"]
        if self.loc is not None and (ex := self.loc.excerpt()):
            parts.append(ex)
        for c in self.chain:
            parts.append(c)
        return "\n".join(parts)

    def called_from(self, what: str, loc: SourceLoc | None) -> FrontendError:
        """The same error, noting that the failing function was compiled because of a call."""
        where = f"{loc}: " if loc else ""
        note = f"{where}note: '{what}' was compiled because it was called from here"
        if loc is not None and (ex := loc.excerpt()):
            note += "\n" + ex
        return FrontendError(self.message, self.loc, (*self.chain, note))


class ScriptError(Exception):
    """A `raise` (or a failed `assert`) in scripted code, when the compiled code runs: the
    message is TorchScript's (`builtins.ValueError: bad input`, `AssertionError: n > 0`) and
    the line that raised. `xjit.jit.Error`, as `torch.jit.Error` (not a RuntimeError)."""


# A `cf.assert` message starting with this is a scripted `raise` (the numpy runtime raises
# ScriptError with the rest of the message), not a run-time size check.
RAISE_PREFIX = "xjit.raise: "


class TraceGuardError(RuntimeError):
    """A traced function was called on inputs for which a value the trace froze (Python control
    flow on a tensor, a size used as a Python int) differs: the trace would compute something
    other than the Python code. Names the source line; `trace(..., guard_fallback="eager")` runs
    such calls eagerly instead."""

    def __init__(self, message: str, file: str = "", line: int = 0) -> None:
        self.file = file
        self.line = line
        super().__init__(message)


def script_str(v: Any) -> str:
    """`str(v)` of a scalar as TorchScript spells it: a float with an integral value in int64's
    range as `2.`, any other float with 17 significant digits (`0.10000000000000001`)."""
    if not isinstance(v, float):
        return str(v)
    if math.isfinite(v) and v == int(v) and -(2.0**63) <= v < 2.0**63:
        return f"{int(v)}."
    if math.isnan(v):
        return "nan"
    return f"{v:.17g}"
