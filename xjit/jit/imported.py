"""`xjit.from_torch`: a PyTorch model imported through `torch.export` (docs/import.md), compiled.

frontends/torch_export.py turns the exported FX graph into torch-dialect IR (an `ImportResult`);
this module builds the `ImportedModule` users get from it: a module hierarchy holding the
parameters and buffers, whose `forward` is an `ImportedFunction` (a `CompiledFunction` that
takes the exported input structure and checks the symbolic dims), so it saves as a `.xjit`
archive that loads and runs without PyTorch.

torch is imported only inside the functions that need it: `import xjit` and `xjit.from_torch`
attribute access stay torch-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xjit._tensor import Tensor
from xjit.frontends.torch_export import ImportResult, TorchImportError, export
from xjit.frontends.torch_export_ops import import_program
from xjit.jit.archive_imported import DimConstraint, ImportedFunction
from xjit.nn.module import Module, Parameter

__all__ = ["ImportedModule", "TorchImportError", "from_torch"]


class _Submodule(Module):
    """A node of the imported hierarchy: the PyTorch submodule's class name, its tensors."""

    def __init__(self, type_name: str) -> None:
        super().__init__()
        object.__setattr__(self, "_type_name", type_name)

    def _get_name(self) -> str:
        return self.__dict__["_type_name"]


class ImportedModule(_Submodule):
    """A PyTorch model imported through `torch.export`: `forward` is compiled; calls take the
    exported signature's (nested) structure, xjit Tensors or numpy arrays."""

    def __init__(self, type_name: str, forward: ImportedFunction) -> None:
        super().__init__(type_name)
        object.__setattr__(self, "_compiled_forward", forward)
        self.training = False

    @property
    def forward(self) -> ImportedFunction:  # type: ignore[override]
        return self.__dict__["_compiled_forward"]

    @property
    def graph(self) -> str:
        return self.forward.graph

    @property
    def code(self) -> str:
        return self.forward.code

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward.call_structured(*args, **kwargs)

    def save(self, path: Any, _extra_files: Any = None) -> None:
        """Save as an `.xjit` archive (docs/archive.md): the loaded module takes the same
        input structure and checks the same symbolic dims."""
        # lazy: the archive writer loads when something is saved (xjit/jit/api.py's hook)
        from xjit.jit.archive import save

        save(self, path, _extra_files)


def _build_module(res: ImportResult, root_type: str) -> ImportedModule:
    # (np.require, not np.ascontiguousarray: that makes a 0-d constant, e.g. the 1.0 that
    # `y[i] = 1.0` lifts, 1-d)
    tensors = {name: Tensor(np.require(a, requirements="C")) for name, a in res.params.items()}
    fop = next(op for op in res.module.ops if op.name == "func.func")
    metas = [t.meta for t in fop.function_type.inputs.data]  # type: ignore[attr-defined]
    constraints = tuple(
        DimConstraint(sym, tuple(occ), lo, hi) for sym, occ, lo, hi in res.dim_constraints
    )
    try:
        cf = ImportedFunction(
            res.module,
            tensors,
            metas,
            res.arg_names,
            res.output_spec,
            "forward",
            input_spec=res.input_spec,
            dim_constraints=constraints,
        )
    except Exception as e:  # a lowering that does not handle this use of an op (yet)
        raise TorchImportError(
            f"the imported program does not compile: {type(e).__name__}: {e}"
        ) from e
    root = ImportedModule(root_type, cf)
    for name, t in tensors.items():
        *path, attr = name.split(".")
        owner: Module = root
        for i, part in enumerate(path):
            child = owner._modules.get(part)
            if child is None:
                sub = ".".join(path[: i + 1])
                child = _Submodule(res.type_names.get(sub, "Module"))
                child.training = False
                owner.add_module(part, child)
            owner = child
        if res.param_kinds[name] == "parameter":
            owner.register_parameter(attr, Parameter(t))
            tensors[name] = owner._parameters[attr]  # the module's object is the slot's value
        else:
            owner.register_buffer(attr, t)
    cf.params.update(tensors)
    return root


def from_torch(
    model: Any,
    args: tuple[Any, ...] = (),
    dynamic_shapes: Any = None,
    *,
    kwargs: dict[str, Any] | None = None,
) -> ImportedModule:
    """Import a PyTorch model through `torch.export` and compile it with xjit.

    `model` is a `torch.nn.Module` (exported with `args`/`kwargs` and `dynamic_shapes`, as
    `torch.export.export` takes them) or an `ExportedProgram`. Raises `TorchImportError` listing
    every ATen op xjit cannot lower yet, with counts and model source lines."""
    import torch  # lazy: PyTorch is needed only to import from it (the xjit[torch] extra)

    if isinstance(model, torch.export.ExportedProgram):
        ep = model
        root_type = _root_type_of_program(ep)
    elif isinstance(model, torch.nn.Module):
        if not isinstance(args, tuple):
            args = (args,)
        ep = export(model, args, kwargs, dynamic_shapes)
        root_type = type(model).__name__
    else:
        raise TypeError(
            f"from_torch expects a torch.nn.Module or a torch.export.ExportedProgram, "
            f"got {type(model).__name__}"
        )
    return _build_module(import_program(ep), root_type)


def _root_type_of_program(ep: Any) -> str:
    nn_stack = {}
    for node in ep.graph.nodes:
        nn_stack = node.meta.get("nn_module_stack") or {}
        if nn_stack:
            break
    for path, (_, cls) in nn_stack.items():
        if path == "L__self__" or not path:
            return getattr(cls, "__name__", str(cls).rsplit(".", 1)[-1])
    return "ExportedProgram"
