"""One model source, scripted by real PyTorch (`torch.jit.script`, the oracle) and by xjit.

The source is a string written to a file (both scripters read function source with `inspect`)
and executed once with `torch` bound to PyTorch and once with it bound to xjit. Results are
compared leaf by leaf: tensors by value and dtype, Python scalars by value and type.
"""

from __future__ import annotations

import itertools
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as real_torch

import xjit

_counter = itertools.count()
_DIR: Path | None = None


def _source_dir() -> Path:
    global _DIR
    if _DIR is None:
        import tempfile

        _DIR = Path(tempfile.mkdtemp(prefix="xjit_script_oracle_"))
    return _DIR


def load(src: str, torch_module: Any) -> dict[str, Any]:
    """Execute `src` (dedented) from a real file with `torch` bound to `torch_module`."""
    path = _source_dir() / f"model_{next(_counter)}.py"
    path.write_text(textwrap.dedent(src))
    # a real module (TorchScript resolves class annotations through sys.modules)
    mod = types.ModuleType(path.stem)
    mod.__file__ = str(path)
    mod.torch = torch_module  # type: ignore[attr-defined]
    sys.modules[path.stem] = mod
    code = compile(path.read_text(), str(path), "exec", dont_inherit=True)  # no __future__ here
    exec(code, mod.__dict__)  # noqa: S102 (the test's own source)
    return mod.__dict__


def to_torch(v: Any) -> Any:
    if isinstance(v, xjit.Tensor):
        return real_torch.from_numpy(np.array(v.numpy()))
    if isinstance(v, (tuple, list)):
        return type(v)(to_torch(x) for x in v)
    return v


def assert_same(got: Any, want: Any, where: str = "result") -> None:
    """xjit's `got` equals torch's `want`: structure, Python scalar types, tensor dtype/values."""
    if isinstance(want, real_torch.Tensor):
        assert isinstance(got, xjit.Tensor), f"{where}: {type(got).__name__}, expected a Tensor"
        w = want.detach().numpy()
        assert got.numpy().dtype == w.dtype, f"{where}: dtype {got.numpy().dtype} != {w.dtype}"
        np.testing.assert_allclose(got.numpy(), w, rtol=1e-5, atol=1e-6, err_msg=where)
    elif isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: {type(got).__name__}, expected a dict"
        assert list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        for k in want:
            assert_same(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want), f"{where}: {type(got).__name__} != {type(want).__name__}"
        assert len(got) == len(want), f"{where}: {len(got)} items, expected {len(want)}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    else:
        assert type(got) is type(want), f"{where}: {type(got).__name__} != {type(want).__name__}"
        if isinstance(want, float) and want != want:  # nan
            assert got != got, f"{where}: {got!r} != nan"
        elif isinstance(want, float):
            assert got == want or abs(got - want) <= 1e-6 * max(1.0, abs(want)), where
        else:
            assert got == want, f"{where}: {got!r} != {want!r}"


def check_function(src: str, name: str, *arg_sets: tuple[Any, ...]) -> None:
    """Script function `name` of `src` with both, call each with every argument tuple (xjit
    values; torch gets copies) and compare."""
    ours = xjit.jit.script(load(src, xjit)[name])
    theirs = real_torch.jit.script(load(src, real_torch)[name])
    for args in arg_sets:
        assert_same(ours(*args), theirs(*to_torch(args)), f"{name}{args!r}")


def both_fns(src: str, name: str) -> tuple[Any, Any]:
    """Function `name` of `src` loaded with xjit and with real PyTorch."""
    return load(src, xjit)[name], load(src, real_torch)[name]


def assert_refused(src: str, name: str, args: tuple[Any, ...], pattern: str) -> None:
    """TorchScript runs `name` on `args`; xjit refuses it with a located FrontendError."""
    ours_py, theirs_py = both_fns(src, name)
    real_torch.jit.script(theirs_py)(*to_torch(args))  # TorchScript has it
    with pytest.raises(xjit.jit.FrontendError, match=pattern) as info:
        xjit.jit.script(ours_py)(*args)
    assert ".py:" in str(info.value), "the refusal names the source line"
