"""The numpy backend: loops-stage IR to generated numpy source, compiled once into callables.

prog = compile_module(module, globals={"linear.weight": w})
(out,) = prog["forward"](x)
print(prog.source)
"""

from xjit.backends.numpy.diagnostics import UnsupportedIRError, XjitPerformanceWarning
from xjit.backends.numpy.program import NumpyProgram, compile_module

__all__ = ["compile_module", "NumpyProgram", "XjitPerformanceWarning", "UnsupportedIRError"]
