"""`-t numpy` for xjit-opt / xdsl-opt: print the numpy source generated for a loops-stage module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target


@dataclass(frozen=True)
class NumpyTarget(Target):
    """The Python source the numpy backend generates (what `CompiledFunction.source` shows).

    Globals without an initial value are left unbound: the source is printed, not run.
    """

    name = "numpy"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        from xdsl.utils.exceptions import DiagnosticException

        # lazy: the code generator loads when source is emitted, not when xdsl-opt lists targets
        from xjit.backends.numpy.codegen import generate
        from xjit.backends.numpy.diagnostics import UnsupportedIRError

        try:
            source = generate(module).source
        except UnsupportedIRError as e:
            raise DiagnosticException(
                f"-t numpy needs loops-stage IR (e.g. -p torch-to-loops first): {e}"
            ) from None
        output.write(source)
