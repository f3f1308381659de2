"""xjit: PyTorch-style models, compiled pass by pass through MLIR-style IR, run with numpy.

`import xjit as torch` gives a numpy-backed, torch-like eager API; `xjit.jit.trace` and
`xjit.jit.script` compile. Importing xjit does not import xDSL: the compiler loads lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

from xjit import _linalg as linalg
from xjit import _special as special
from xjit import nn
from xjit._creation import (
    BoolTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    manual_seed,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from xjit._device import (
    cuda,
    device,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from xjit._dispatch import call
from xjit._functional import einsum, norm
from xjit._safetensors import load_safetensors
from xjit._serialization import load, save
from xjit._splitting import chunk, nonzero_tuple, split, tensor_split, unbind
from xjit._tensor import Size, Tensor
from xjit._tensor_functions import block_diag, cartesian_prod, cdist, tensordot
from xjit._torch_functions import (
    allclose,
    broadcast_tensors,
    concat,
    concatenate,
    equal,
    finfo,
    iinfo,
    is_floating_point,
    meshgrid,
    numel,
    unique,
)
from xjit.ops.registry import OVERLOADS, ensure_loaded
from xjit.ops.types import DType, bfloat16, bool_, float16, float32, float64, int32, int64

__version__ = "0.1.0"

float = float32  # noqa: A001  (torch.float)
double = float64
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001
half = float16  # named for comparisons; refused as a dtype (xjit has no 16-bit floats)
dtype = DType


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def get_default_dtype() -> DType:
    return float32


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """`torch.nonzero`: the indices of the nonzero elements, as rows or (`as_tuple`) per dim."""
    return nonzero_tuple(input) if as_tuple else call("nonzero", input)


def where(condition: Tensor, *args: Any, **kwargs: Any) -> Any:
    """`torch.where(cond, x, y)`; `torch.where(cond)` is `nonzero(cond, as_tuple=True)`."""
    if not args and not kwargs:
        return nonzero_tuple(condition)
    return call("where", condition, *args, **kwargs)


def __getattr__(name: str) -> Any:
    # Every registry op is a function here: xjit.tanh, xjit.add, xjit.mm, ...
    if name == "jit":
        # lazy: `xjit.jit` (the compiler's API, which imports xDSL) loads on first use, as a
        # submodule; `import xjit` stays xDSL-free
        return importlib.import_module("xjit.jit")
    if name == "backends":
        # `torch.backends.cudnn.deterministic = True` and the like: the flags live in the
        # backends package's __init__, which imports nothing (backends/__init__.py)
        return importlib.import_module("xjit.backends")
    if name == "from_torch":
        # the torch.export importer (docs/import.md), in the jit API layer: loaded as a
        # submodule on first use, as `xjit.jit`; it needs torch only when called
        return importlib.import_module("xjit.jit.imported").from_torch
    ensure_loaded()
    if name in OVERLOADS:

        def op(*args: Any, **kwargs: Any) -> Any:
            return call(name, *args, **kwargs)

        op.__name__ = op.__qualname__ = name
        globals()[name] = op  # resolve once
        return op
    raise AttributeError(f"module 'xjit' has no attribute '{name}'")


__all__ = [
    "BoolTensor",
    "DoubleTensor",
    "FloatTensor",
    "IntTensor",
    "LongTensor",
    "eye",
    "linspace",
    "logspace",
    "normal",
    "randint",
    "randperm",
    "tril_indices",
    "triu_indices",
    "allclose",
    "block_diag",
    "cartesian_prod",
    "cdist",
    "tensordot",
    "broadcast_tensors",
    "concat",
    "concatenate",
    "equal",
    "finfo",
    "iinfo",
    "is_floating_point",
    "meshgrid",
    "numel",
    "unique",
    "as_tensor",
    "chunk",
    "cuda",
    "device",
    "empty",
    "einsum",
    "empty_like",
    "enable_grad",
    "full_like",
    "get_default_dtype",
    "inference_mode",
    "is_grad_enabled",
    "is_tensor",
    "no_grad",
    "ones_like",
    "rand_like",
    "randn_like",
    "set_grad_enabled",
    "split",
    "tensor_split",
    "unbind",
    "nonzero",
    "where",
    "zeros_like",
    "Size",
    "Tensor",
    "DType",
    "arange",
    "from_numpy",
    "full",
    "manual_seed",
    "linalg",
    "special",
    "load_safetensors",
    "load",
    "save",
    "nn",
    "norm",
    "ones",
    "rand",
    "randn",
    "tensor",
    "zeros",
    "bfloat16",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "bool_",
]
