"""xjit's passes, one a file; `name` of each pass class is its CLI flag.

Upstream xDSL passes (`canonicalize`, `cse`, `dce`, ...) are reused as they are: torch ops hook
into `canonicalize` through their folders and canonicalization-pattern traits, as MLIR dialects do.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xdsl.passes import ModulePass

# pass name -> "module:Class" under xjit.passes; imported only when the pass is used.
_PASS_LOCATIONS: dict[str, str] = {
    "torch-decompose": "torch_decompose:TorchDecompose",
    "torch-fold-constants": "torch_fold_constants:TorchFoldConstants",
    "convert-torch-to-linalg": "convert_torch_to_linalg:ConvertTorchToLinalg",
    "linalg-fuse-elementwise": "linalg_fuse_elementwise:LinalgFuseElementwise",
    "batch-loop-invariant": "batch_loop_invariant:BatchLoopInvariant",
    "bufferize": "bufferize:Bufferize",
    "convert-linalg-to-loop": "convert_linalg_to_loop:ConvertLinalgToLoop",
    "convert-loop-to-scf": "convert_loop_to_scf:ConvertLoopToScf",
    "torch-to-loops": "pipelines:TorchToLoops",
    "inline": "inline:Inline",
    "torch-shape-refinement": "torch_shape_refinement:TorchShapeRefinement",
    "view-op-graph": "view_op_graph:ViewOpGraph",
}


def _loader(location: str) -> Callable[[], type[ModulePass]]:
    module, cls = location.split(":")

    def load() -> type[ModulePass]:
        return getattr(importlib.import_module(f"xjit.passes.{module}"), cls)

    return load


XJIT_PASSES: dict[str, Callable[[], type[ModulePass]]] = {
    name: _loader(loc) for name, loc in _PASS_LOCATIONS.items()
}


def get_pass(name: str) -> type[ModulePass]:
    """The pass class for `name`, from xjit or upstream xDSL."""
    if name in XJIT_PASSES:
        return XJIT_PASSES[name]()
    # lazy: xDSL and the torch dialect load with the first pass used. Upstream `canonicalize`
    # folds torch ops (and `shape-inference` refines them) with patterns that register with the
    # dialect's traits when imported.
    from xdsl.transforms import get_all_passes

    from xjit.dialects import torch_canonicalization, torch_shape_inference  # noqa: F401

    upstream = get_all_passes()
    if name not in upstream:
        raise KeyError(f"unknown pass '{name}'")
    return upstream[name]()
