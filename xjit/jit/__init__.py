"""`xjit.jit`: compile models by tracing (`trace`) them, `save`/`load` them as
`.xjit` archives (docs/archive.md); see docs/architecture.md."""

from typing import Any

from xjit.errors import FrontendError, TraceGuardError
from xjit.errors import ScriptError as Error
from xjit.frontends.signature import annotate, is_scripting, is_tracing
from xjit.jit.api import TracedFunction, TracedModule, TracerWarning, trace, trace_module
from xjit.jit.archive import ArchiveError, load, save
from xjit.jit.compiled import ArgumentError, CompiledFunction
from xjit.jit.script_api import (
    Final,
    ScriptFunction,
    ScriptModule,
    export,
    ignore,
    script,
    script_method,
    unused,
)


def freeze(
    mod: Any, preserved_attrs: list[str] | None = None, optimize_numerics: bool = True
) -> Any:
    """torch.jit.freeze: a copy of a scripted or traced module in eval mode with its parameters
    and buffers as constants, constant subexpressions folded (xjit/jit/archive_freeze.py)."""
    # lazy: freezing loads the torch interpreter and xDSL's rewriter, `import xjit.jit` does not
    from xjit.jit.archive_freeze import freeze as _freeze

    return _freeze(mod, preserved_attrs, optimize_numerics)


__all__ = [
    "ArchiveError",
    "ArgumentError",
    "CompiledFunction",
    "Error",
    "FrontendError",
    "ScriptFunction",
    "ScriptModule",
    "script",
    "script_method",
    "TraceGuardError",
    "TracedFunction",
    "TracedModule",
    "TracerWarning",
    "Final",
    "annotate",
    "export",
    "freeze",
    "ignore",
    "is_scripting",
    "is_tracing",
    "unused",
    "load",
    "save",
    "trace",
    "trace_module",
]
