"""`xjit.jit.trace` and the module it returns."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from typing import Any

from xjit import _dispatch
from xjit._tensor import Tensor
from xjit.errors import TracerWarning  # noqa: E402,F401  (re-exported; defined without xDSL)
from xjit.frontends.signature import GraphSource
from xjit.jit.compiled import CompiledFunction
from xjit.jit.display import mimebundle
from xjit.jit.fastcall import make_call
from xjit.nn.module import Module


def _arg_names(fn: Callable[..., Any], n: int) -> list[str]:
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        params = []
    names = params[:n]
    return names + [f"argument_{i}" for i in range(len(names), n)]


def _compile_trace(
    fn: Callable[..., Any],
    example_inputs: Sequence[Tensor],
    named_tensors: dict[str, Tensor],
    name: str = "forward",
    modules: dict[int, str] | None = None,
) -> CompiledFunction:
    # lazy: the tracing frontend (and the torch dialect) loads on the first trace, not with xjit.jit
    from xjit.frontends.trace import trace_function

    result = trace_function(fn, example_inputs, named_tensors, name, modules)
    names = _arg_names(fn, len(example_inputs))
    fop = next(iter(o for o in result.module.ops if o.name == "func.func"))
    for arg, n in zip(fop.body.block.args, names, strict=True):  # type: ignore[attr-defined]
        arg.name_hint = n
    cf = CompiledFunction(
        result.module, result.params, result.input_metas, names, result.output_spec, name
    )
    cf.enable_dynamic_shapes()  # other shapes compile (and cache) variants: docs/shapes.md
    return cf


class TracedModule(Module, GraphSource):
    """A Module whose `forward` is compiled. Shares submodules and parameters with the original."""

    def __init__(self, original: Module, forward: CompiledFunction) -> None:
        super().__init__()
        object.__setattr__(self, "_original_name", type(original).__name__)
        object.__setattr__(self, "_compiled_forward", forward)
        object.__setattr__(self, "_call", make_call(forward))  # the per-call path (fastcall.py)
        self._share_state_of(original)

    @property
    def forward(self) -> CompiledFunction:  # type: ignore[override]
        return self.__dict__["_compiled_forward"]

    @property
    def graph(self) -> str:
        return self.forward.graph

    def graph_source(self) -> dict[str, Any]:
        """What a scripted or traced caller needs to call this graph (see frontends/script/calls.py)."""
        f = self.forward
        return {
            "ir": f.torch_ir,
            "params": f.params,
            "spec": f.output_spec,
            "arg_names": list(f.arg_names),
            "defaults": {},
            "entry": f.name,
        }

    def __call__(self, *args: Any) -> Any:
        if not _dispatch._recorders:  # not being traced: straight to the compiled code
            return self.__dict__["_call"](*args)
        rec = _dispatch.current_recorder()
        if rec is not None and hasattr(rec, "record_call"):
            # Traced inside another trace: keep it a call (of this already compiled graph).
            _dispatch.pop_recorder()
            try:
                result = self.__dict__["_compiled_forward"](*args)
            finally:
                _dispatch.push_recorder(rec)
            rec.record_call(self, list(args), result)
            return result
        return self.__dict__["_compiled_forward"](*args)

    @property
    def code(self) -> str:
        return self.forward.code

    def graph_dot(self) -> str:
        """The graph as Graphviz dot (`dot -Tsvg`); Jupyter shows it as a picture."""
        return self.forward.graph_dot()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return mimebundle(self.graph_dot(), repr(self))

    def _get_name(self) -> str:
        return self.__dict__["_original_name"]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save as an `.xjit` archive (docs/archive.md); `xjit.jit.load` reads it back."""
        save_archive(self, path)


# `save()` of compiled modules writes with xjit/jit/archive_write.py, which is built on this
# module's classes and script_api's: it installs its writer here when imported (importing
# xjit.jit imports it), so this module does not import it back.
_archive_writer: Callable[[Any, str | os.PathLike[str]], None] | None = None


def set_archive_writer(write: Callable[[Any, str | os.PathLike[str]], None]) -> None:
    global _archive_writer
    _archive_writer = write


def save_archive(module: Any, path: str | os.PathLike[str]) -> None:
    if _archive_writer is None:
        raise RuntimeError("the archive writer is not loaded (import xjit.jit)")
    _archive_writer(module, path)


def trace(
    func: Module | Callable[..., Any],
    example_inputs: Tensor | Sequence[Tensor],
) -> Any:
    """Run `func` once on `example_inputs`, record the ops it runs, and compile them.

    Python control flow is frozen into the trace; tensors created outside and read by `func`
    become constants; the parameters and buffers of a traced Module stay live (bound by name).
    """
    inputs = (example_inputs,) if isinstance(example_inputs, Tensor) else tuple(example_inputs)
    if isinstance(func, Module):
        named = dict(func.named_parameters())
        named.update(dict(func.named_buffers()))
        modules = {id(m): n for n, m in func.named_modules() if n}
        compiled = _compile_trace(func.forward, inputs, named, modules=modules)
        return TracedModule(func, compiled)
    if callable(func):
        return _compile_trace(func, inputs, {}, getattr(func, "__name__", "forward"))
    raise TypeError(f"trace expects a Module or a function, got {type(func).__name__}")
