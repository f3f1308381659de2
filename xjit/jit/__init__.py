"""`xjit.jit`: compile models by tracing (`trace`) them, `save`/`load` them as
`.xjit` archives (docs/archive.md); see docs/architecture.md."""

from xjit.errors import FrontendError, TraceGuardError
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

__all__ = [
    "ArchiveError",
    "ArgumentError",
    "CompiledFunction",
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
    "ignore",
    "is_scripting",
    "is_tracing",
    "unused",
    "load",
    "save",
    "trace",
    "trace_module",
]
