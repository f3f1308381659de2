"""Model tests run one model source twice: `build(torch)` with real PyTorch and with xjit
(`import xjit as torch`), copy torch's random weights through its state_dict (as numpy), and
compare outputs eager and traced (rtol 1e-4, atol 1e-5)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as pt

import xjit
from xjit.jit.archive_format import ArchiveError

RTOL, ATOL = 1e-4, 1e-5


def twins(build: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """The same model built with torch and with xjit, xjit's holding torch's weights."""
    pt.manual_seed(0)
    t = build(pt)(*args, **kwargs).eval()
    x = build(xjit)(*args, **kwargs).eval()
    tsd = t.state_dict()
    assert list(x.state_dict()) == list(tsd), "state_dict keys differ from torch's"
    for k, v in x.state_dict().items():
        assert tuple(v.shape) == tuple(tsd[k].shape), k
    x.load_state_dict({k: v.numpy() for k, v in tsd.items()})
    return t, x


def flat(v: Any) -> list[np.ndarray]:
    if isinstance(v, (tuple, list)):
        return [a for x in v for a in flat(x)]
    if isinstance(v, pt.Tensor):
        return [v.detach().numpy()]
    return [v.numpy()]


def assert_close(got: Any, want: Any, what: str = "") -> None:
    g, w = flat(got), flat(want)
    assert len(g) == len(w), what
    for a, b in zip(g, w, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype, (
            f"{what}: {a.shape}/{a.dtype} vs {b.shape}/{b.dtype}"
        )
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


def compare(t: Any, x: Any, *arrays: np.ndarray, trace: bool = True) -> Any:
    """Eager and traced xjit outputs against torch's on `arrays`; returns the traced module."""
    with pt.no_grad():
        want = t(*[pt.from_numpy(a.copy()) for a in arrays])
    xs = [xjit.from_numpy(a.copy()) for a in arrays]
    with xjit.no_grad():
        assert_close(x(*xs), want, "eager")
    if not trace:
        return None
    traced = xjit.jit.trace(x, tuple(xs))
    assert_close(traced(*xs), want, "traced")
    return traced


def _to(lib: Any, a: Any) -> Any:
    if isinstance(a, np.ndarray):
        return lib.from_numpy(a.copy())
    if isinstance(a, tuple):  # an LSTM's (h, c)
        return tuple(_to(lib, v) for v in a)
    return a


def torch_inputs(arrays: Sequence[Any]) -> list[Any]:
    return [_to(pt, a) for a in arrays]


def xjit_inputs(arrays: Sequence[Any]) -> list[Any]:
    return [_to(xjit, a) for a in arrays]


def _round_trip(compiled: Any, path: Path, sets: Sequence[Sequence[Any]], wants: list[Any]) -> None:
    """`compiled` saved to an archive and loaded back gives torch's numbers on every set."""
    compiled.save(path)
    loaded = xjit.jit.load(path)
    for i, (arrays, want) in enumerate(zip(sets, wants, strict=True)):
        assert_close(loaded(*xjit_inputs(arrays)), want, f"{path.stem} loaded, set {i}")


def check_compiled(
    t: Any,
    x: Any,
    sets: Sequence[Sequence[Any]],
    tmp_path: Path,
    *,
    script: str = "both",
    script_save: bool = True,
    from_torch: bool = True,
) -> None:
    """The whole promise on one model: xjit eager, `xjit.jit.trace` (traced on the first input
    set, run on every set), `xjit.jit.script` (`script="both"`: torch.jit.script compiles the
    same code too; "xjit": torch refuses it and xjit still compiles it; "neither": torch refuses
    it and xjit need not accept it) and `xjit.from_torch`, each
    against torch's eager output, and each compiled form saved and loaded back.
    `script_save=False`: the scripted module is compiled per call signature (an nn.RNN inside, a
    loop unrolled per size, an in-place update of tensors of unknown dtype: `out += identity`,
    `nn.ReLU(inplace=True)`) and its save must refuse loudly, naming the way out."""
    with pt.no_grad():
        wants = [t(*torch_inputs(a)) for a in sets]
    with xjit.no_grad():
        for i, (arrays, want) in enumerate(zip(sets, wants, strict=True)):
            assert_close(x(*xjit_inputs(arrays)), want, f"eager, set {i}")
    traced = xjit.jit.trace(x, tuple(xjit_inputs(sets[0])))
    for i, (arrays, want) in enumerate(zip(sets, wants, strict=True)):
        assert_close(traced(*xjit_inputs(arrays)), want, f"traced, set {i}")
    _round_trip(traced, tmp_path / "traced.xjit", sets, wants)
    assert script in ("both", "xjit", "neither"), script
    if script == "both":
        with pt.no_grad():
            ts = pt.jit.script(t)
            assert_close(ts(*torch_inputs(sets[0])), wants[0], "torch.jit.script vs eager")
    else:
        with pytest.raises(Exception):  # noqa: B017, PT011 (torch's own error type varies)
            pt.jit.script(t)
    if script != "neither":
        scripted = xjit.jit.script(x)
        for i, (arrays, want) in enumerate(zip(sets, wants, strict=True)):
            assert_close(scripted(*xjit_inputs(arrays)), want, f"scripted, set {i}")
        if script_save:
            _round_trip(scripted, tmp_path / "scripted.xjit", sets, wants)
        else:
            with pytest.raises(ArchiveError, match="no generic graph.*trace it"):
                scripted.save(tmp_path / "scripted.xjit")
    if from_torch:
        imported = xjit.from_torch(t, tuple(torch_inputs(sets[0])))
        for i, (arrays, want) in enumerate(zip(sets, wants, strict=True)):
            assert_close(imported(*xjit_inputs(arrays)), want, f"from_torch, set {i}")
        _round_trip(imported, tmp_path / "imported.xjit", sets, wants)
