"""xjit's code generators (numpy, the xDSL interpreter), in their submodules.

The package also answers the `torch.backends` flags that model code sets at the top of a file
(`torch.backends.cudnn.deterministic = True`, `torch.backends.cuda.matmul.allow_tf32 = True`):
xjit runs on numpy, so the accelerator libraries are never available and the flags are plain
attributes that change nothing. Importing the package imports nothing else.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any


class _Library(SimpleNamespace):
    """An accelerator library torch may have been built with: never here."""

    def is_available(self) -> bool:
        return False

    def is_built(self) -> bool:
        return False

    def version(self) -> Any:
        return None


cudnn = _Library(enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
mkldnn = _Library(enabled=True)
mps = _Library()
openmp = _Library()
cuda = _Library(
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)
)
