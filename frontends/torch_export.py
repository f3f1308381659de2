"""Importing real PyTorch programs: `torch.export` → the torch dialect (docs/import.md).

`from_torch(model, args)` exports a `torch.nn.Module` (or takes an `ExportedProgram`), runs
PyTorch's decompositions to the core ATen set, and emits one torch-dialect op per FX node with
the tracer's IR builder (frontends/builder.py). Every ATen op maps onto an op of xjit's registry
(xjit/ops/), decomposed here where that is exact (`_softmax` → `softmax.int`,
`split_with_sizes` → `slice.Tensor`s, ...): an imported model is lowered by the same code as one
written against `import xjit as torch`. The mapping tables, and `import_program` that applies
them, live in frontends/torch_export_ops.py (which builds on this module).

Parameters, buffers and lifted constants become `torch.global_slot`s holding numpy copies.
This module is the frontend half (FX graph -> IR, an `ImportResult`); xjit/jit/imported.py
builds the compiled `ImportedModule` from it (`xjit.from_torch`), in the jit API layer.

torch is imported only inside the functions that need it: `import xjit` and `xjit.from_torch`
attribute access stay torch-free.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from xjit.frontends.signature import OutputSpec

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp


class TorchImportError(RuntimeError):
    """A PyTorch program that xjit cannot import (unsupported ops, dtypes, signatures)."""


# -- locations -------------------------------------------------------------------------------
_FRAME_RE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def source_line(node: Any) -> str:
    """`file:line` of the model code that produced an FX node (the innermost frame of its
    recorded stack trace), or `<unknown>`."""
    st = node.meta.get("stack_trace") or ""
    frames = _FRAME_RE.findall(st)
    # Decompositions and export's own machinery add frames inside torch: the model's line is
    # the innermost frame outside the torch package.
    user = [f for f in frames if not f[0].startswith(_torch_dir())]
    if not user:
        return "<unknown>"
    file, line = user[-1]
    return f"{file}:{line}"


def _torch_dir() -> str:
    import torch

    return os.path.dirname(torch.__file__) + os.sep


def loc_attr(node: Any) -> Any:
    from xdsl.dialects.builtin import FileLineColLoc, IntAttr, StringAttr

    where = source_line(node)
    if where == "<unknown>":
        return None
    file, line = where.rsplit(":", 1)
    return FileLineColLoc(StringAttr(file), IntAttr(int(line)), IntAttr(1))


# -- the result --------------------------------------------------------------------------------
@dataclass
class ImportResult:
    module: ModuleOp
    params: dict[str, np.ndarray]  # global slot name -> value
    param_kinds: dict[str, str]  # global slot name -> "parameter" | "buffer"
    arg_names: list[str]
    input_spec: OutputSpec  # structure of (args, kwargs): a tuple of a tuple and a dict
    output_spec: OutputSpec
    type_names: dict[str, str] = field(default_factory=dict)  # submodule path -> class name
    # symbolic dim -> its (input index, dim) occurrences and range (dynamic_shapes)
    dim_constraints: list[tuple[str, list[tuple[int, int]], int | None, int | None]] = field(
        default_factory=list
    )


def tree_to_spec(tree: Any, leaves: Sequence[Any] | None = None, pos: int = 0) -> Any:
    """A torch pytree `TreeSpec` as xjit's OutputSpec: tuple/list/dict nodes keep their kind
    (dicts their keys); a leaf is `tensor`, or `none` where `leaves[pos]` is None."""
    if tree.is_leaf():
        kind = "none" if leaves is not None and leaves[pos] is None else "tensor"
        return OutputSpec(kind), pos + 1
    children = []
    kids = tree.children() if callable(getattr(tree, "children", None)) else tree.children_specs
    for c in kids:
        spec, pos = tree_to_spec(c, leaves, pos)
        children.append(spec)
    t = tree.type
    if t is dict or (isinstance(t, type) and issubclass(t, dict)):
        return OutputSpec("dict", tuple(children), tuple(str(k) for k in tree.context)), pos
    if t is list:
        return OutputSpec("list", tuple(children)), pos
    if t is tuple or (isinstance(t, type) and issubclass(t, tuple)):  # namedtuples as tuples
        return OutputSpec("tuple", tuple(children)), pos
    if t is None:  # a None in the tree (no leaf)
        return OutputSpec("none"), pos
    raise TorchImportError(f"cannot import a {getattr(t, '__name__', t)} in the model's signature")


# -- exporting ---------------------------------------------------------------------------------
def export(
    model: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None, dynamic_shapes: Any
) -> Any:
    """`torch.export.export`, strict first (TorchDynamo: the most faithful capture) and
    non-strict (Python tracing) where strict capture fails."""
    import torch

    try:
        return torch.export.export(
            model, args, kwargs=kwargs, dynamic_shapes=dynamic_shapes, strict=True
        )
    except Exception as strict_error:  # dynamo cannot capture everything; non-strict often can
        try:
            return torch.export.export(
                model, args, kwargs=kwargs, dynamic_shapes=dynamic_shapes, strict=False
            )
        except Exception as e:
            raise TorchImportError(
                f"torch.export failed (strict: {type(strict_error).__name__}: "
                f"{_first_line(strict_error)}; non-strict: {type(e).__name__}: {_first_line(e)})"
            ) from e


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else ""
