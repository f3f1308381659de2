"""`xjit.jit`: compile models by tracing (`trace`) them; see docs/architecture.md."""

from xjit.jit.api import TracedModule, TracerWarning, trace
from xjit.jit.compiled import ArgumentError, CompiledFunction

__all__ = ["ArgumentError", "CompiledFunction", "TracedModule", "TracerWarning", "trace"]
