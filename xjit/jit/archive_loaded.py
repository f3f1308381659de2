"""The objects `load` returns: modules and scripted functions rebuilt from an archive, which
print and call like the ones that were saved."""

from __future__ import annotations

from typing import Any

from xjit._tensor import Tensor
from xjit.jit.archive_format import ArchiveError, Node
from xjit.jit.archive_write import save
from xjit.jit.compiled import ArgumentError, CompiledFunction
from xjit.jit.script_api import _script_repr, _Scripted, _state_key
from xjit.nn.module import Module


class LoadedModule(Module):
    """A module loaded from an archive: the saved hierarchy (same printed form), its parameters
    and buffers, and its compiled methods (`forward` → calling the module)."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        object.__setattr__(self, "_type_name", node.type)
        object.__setattr__(self, "_extra_repr_text", node.extra_repr)
        object.__setattr__(self, "_methods", {})
        object.__setattr__(self, "training", node.training)

    def _method(self, name: str) -> CompiledFunction:
        m = self.__dict__["_methods"][name]
        if callable(m) and not hasattr(m, "torch_ir"):  # compiled on first use (see _load)
            m = self.__dict__["_methods"][name] = m()
        if isinstance(m, CompiledFunction) and m._owner is None:
            m.bind_owner(self, same=True)  # `loaded.fc.weight = ...` is then seen
        return m

    def _compiled_methods(self) -> dict[str, CompiledFunction]:
        return {n: self._method(n) for n in self.__dict__["_methods"]}

    @property
    def forward(self) -> CompiledFunction:  # type: ignore[override]
        if "forward" not in self.__dict__["_methods"]:
            raise AttributeError(f"{self._get_name()} was saved without a forward method")
        return self._method("forward")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fwd = self.forward
        if hasattr(fwd, "call_structured"):  # an imported program: called like the original
            return fwd.call_structured(*args, **kwargs)
        return fwd(*args, **kwargs)

    def __getattribute__(self, name: str) -> Any:
        # a saved method named like an nn.Module method (`double`, `half`, `float`) is the
        # saved one, as on the ScriptModule it was saved from
        if name[:1] != "_" and name != "forward":
            methods = object.__getattribute__(self, "__dict__").get("_methods")
            if methods and name in methods:
                return object.__getattribute__(self, "_method")(name)
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        methods = self.__dict__.get("_methods", {})
        if name in methods:
            return self._method(name)
        if name == "forward":  # (the property's AttributeError lands here)
            raise AttributeError(
                f"{self._get_name()} was loaded without a forward method of its own (xjit "
                "saves the methods of the module passed to save, not of its submodules)"
            )
        return super().__getattr__(name)

    @property
    def graph(self) -> str:
        return self.forward.graph

    @property
    def code(self) -> str:
        return self.forward.code

    def _get_name(self) -> str:
        return self.__dict__["_type_name"]

    def extra_repr(self) -> str:
        return self.__dict__["_extra_repr_text"]

    def save(self, path: Any, _extra_files: Any = None) -> None:
        save(self, path, _extra_files)


def _init_loaded_script(
    obj: Any,
    entry: str,
    generic: Any,
    variants: dict[Any, Any],
    states: list[tuple[Any, Any, dict[Any, Any]]] | None = None,
) -> None:
    """Make `obj` (a script_api._Scripted) specialise the saved generic graph per call, exactly as
    the scripted original does; graphs for other None/non-None arguments come from `variants`.

    A module's graph was compiled for one module state (the training flags and plain attribute
    values it reads, script_api `_state_key`): `_Scripted._g` asks for the graph of another
    state when it changes. `states` holds (state key, graph, variants) saved for other training
    states (`.train()`/`.eval()`); a state the archive has no graph for raises instead of running
    stale code."""
    saved = _state_key(obj, generic) if isinstance(obj, Module) else None
    graphs = [(saved, generic, variants), *(states or [])]

    def compile_ir(kinds: dict[str, Any] | None) -> Any:
        found = [
            (graph, graph_variants)
            for key, graph, graph_variants in graphs
            if saved is None or _state_key(obj, graph) == key
        ]
        if not found:  # (the graph whose state is the current one) say how the closest differs
            flags = tuple(bool(m.training) for m in obj.modules())
            same = [(k, g) for k, g, _ in graphs if g.reads_training and k[0] == flags]
            key, graph = same[0] if same else (saved, generic)
            raise ArchiveError(_state_mismatch(obj, entry, graph, key))
        graph, graph_variants = found[0]
        if kinds is None:
            return graph
        key = tuple(sorted((k, str(v)) for k, v in kinds.items()))
        if key not in graph_variants:
            what = ", ".join(f"'{k}' as {v}" for k, v in key)
            raise ArgumentError(
                f"{entry}() cannot be called with {what}: the archive holds no "
                "graph for it (it did not compile when saved)"
            )
        return graph_variants[key]

    obj._init_scripted(compile_ir, entry)


def _state_mismatch(obj: Module, entry: str, g: Any, saved: tuple[Any, ...]) -> str:
    now = _state_key(obj, g) or ()
    what = []
    i = 0
    if g.reads_training:
        if now[0] != saved[0] and len(set(saved[0])) == len(set(now[0])) == 1:
            what.append(f"training={saved[0][0]} (now {now[0][0]})")
        elif now[0] != saved[0]:
            names = [n or "<root>" for n, _ in obj.named_modules()]
            flags = dict(zip(names, saved[0], strict=True))
            nows = dict(zip(names, now[0], strict=True))
            what.append(f"the training flags {flags} (now {nows})")
        i = 1
    for (path, name), was, is_ in zip(g.attr_reads, saved[i:], now[i:], strict=True):
        if was != is_:
            where = f"{path}.{name}" if path else name
            what.append(f"{where}={_unhash(was)!r} (now {_unhash(is_)!r})")
    return (
        f"{entry}() of this loaded module was compiled, when saved, for {', '.join(what)}; the "
        "archive holds graphs for that state and for every module in training or in eval mode "
        "only (TorchScript reads these at run time). Set them back, or save the scripted module "
        "in the state it will run in"
    )


def _unhash(h: Any) -> Any:
    if isinstance(h, tuple) and h and h[0] in ("list", "tuple"):
        items = [_unhash(x) for x in h[1:]]
        return items if h[0] == "list" else tuple(items)
    if isinstance(h, tuple) and h and h[0] == "dict":  # script_api._hashable of a dict
        return {k: _unhash(x) for k, x in h[1:]}
    if isinstance(h, tuple) and len(h) == 2 and isinstance(h[0], str):
        return h[1]
    return h


class LoadedScriptModule(_Scripted, LoadedModule):  # type: ignore[misc]
    """A scripted module loaded from an archive: prints as a `RecursiveScriptModule`, its `graph`
    and `code` are the generic graph's, and each call signature is specialised and compiled on
    first use (script_api._Scripted), as by the scripted module it was saved from."""

    def __init__(self, node: Node) -> None:
        super().__init__(node)
        object.__setattr__(self, "_original_name", node.type)
        object.__setattr__(self, "_name", "forward")

    def _scripted_methods(self) -> dict[str, Any]:
        return {"forward": self}

    def _current_training_key(self) -> tuple[Any, ...] | None:
        return _state_key(self, self.__dict__.get("_generic"))

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        cf, vals = self.compiled_for(*args, **kwargs)
        return cf(*[v for v in vals if isinstance(v, Tensor)])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(args, kwargs, self._run)

    @property
    def forward(self) -> Any:  # type: ignore[override]
        return self.__call__

    graph = _Scripted.graph  # the generic graph, not a compiled forward's
    code = _Scripted.code

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    def __repr__(self) -> str:
        return _script_repr(self)


class LoadedScriptFunction(_Scripted):  # type: ignore[misc]
    """A scripted function loaded from an archive; call it like the function."""

    def __init__(self, name: str) -> None:
        self.__dict__["_name"] = name
        self.__dict__["name"] = name

    def _run(self, *args: Any, **kwargs: Any) -> Any:
        cf, vals = self.compiled_for(*args, **kwargs)
        return cf(*[v for v in vals if isinstance(v, Tensor)])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(args, kwargs, self._run)

    def _scripted_methods(self) -> dict[str, Any]:
        return {self.__dict__["_name"]: self}

    def __repr__(self) -> str:
        return f"<xjit.jit.ScriptFunction {self.__dict__['_name']}>"

    def save(self, path: Any, _extra_files: Any = None) -> None:
        save(self, path, _extra_files)
