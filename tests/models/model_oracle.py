"""Model tests run one model source twice: `build(torch)` with real PyTorch and with xjit
(`import xjit as torch`), copy torch's random weights through its state_dict (as numpy), and
compare outputs eager and traced (rtol 1e-4, atol 1e-5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as pt

import xjit

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
