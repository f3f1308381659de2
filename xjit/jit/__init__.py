"""`xjit.jit`: compile models by tracing (`trace`) them, `save`/`load` them as
`.xjit` archives (docs/archive.md); see docs/architecture.md."""

from xjit.errors import FrontendError, TraceGuardError
from xjit.errors import ScriptError as Error
from xjit.frontends.signature import annotate, is_scripting
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
    unused,
)

__all__ = [
    "ArchiveError",
    "ArgumentError",
    "CompiledFunction",
    "Error",
    "FrontendError",
    "ScriptFunction",
    "ScriptModule",
    "script",
    "TraceGuardError",
    "TracedFunction",
    "TracedModule",
    "TracerWarning",
    "Final",
    "annotate",
    "export",
    "ignore",
    "is_scripting",
    "unused",
    "load",
    "save",
    "trace",
    "trace_module",
]
