"""`raise ValueError` (the class, not called) and a bare `raise`, as torch.jit.script has them:
the first raises at run time with the class dropped ("RuntimeError: "), also from inside loops
over lists and ranges; the second does not compile in either."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_same, load, to_torch

import xjit
from xjit.errors import FrontendError

SRC = """
from typing import List

def class_only(x):
    if bool(x.sum() > 5):
        raise ValueError
    return x + 1

def in_a_list_loop(x, xs: List[torch.Tensor]):
    for y in xs:
        if bool(y.sum() > 5):
            raise KeyError
        x = x + y
    return x

def in_a_range_loop(x, n: int):
    for i in range(n):
        if i == 3:
            raise RuntimeError
        x = x * 2
    return x

def bare(x):
    if bool(x.sum() > 5):
        raise
    return x
"""

ONE, BIG = xjit.ones(2), xjit.tensor(np.array([4.0, 3.0], np.float32))


@pytest.mark.parametrize(
    ("name", "ok", "bad"),
    [
        ("class_only", (ONE,), (BIG,)),
        ("in_a_list_loop", (ONE, [ONE, ONE]), (ONE, [ONE, BIG])),
        ("in_a_range_loop", (ONE, 3), (ONE, 5)),
    ],
)
def test_raising_an_exception_class_matches_torchscript(
    name: str, ok: tuple[Any, ...], bad: tuple[Any, ...]
) -> None:
    ours = xjit.jit.script(load(SRC, xjit)[name])
    theirs = real_torch.jit.script(load(SRC, real_torch)[name])
    assert_same(ours(*ok), theirs(*to_torch(ok)), f"{name}{ok!r}")
    with pytest.raises(real_torch.jit.Error) as want:
        theirs(*to_torch(bad))
    last = str(want.value).strip().splitlines()[-1]
    assert last == "RuntimeError:", last  # TorchScript drops the class
    for run in (ours, ours.run_reference):
        with pytest.raises(xjit.jit.Error) as got:
            run(*bad)
        assert str(got.value).strip().endswith(last), str(got.value)


def test_a_bare_raise_is_refused_as_torchscript_cannot_compile_it() -> None:
    with pytest.raises(Exception):  # noqa: B017, PT011 (torch fails with an AttributeError)
        real_torch.jit.script(load(SRC, real_torch)["bare"])
    with pytest.raises(FrontendError, match=r"\.py:\d+:\d+: error: unsupported: a bare `raise`"):
        xjit.jit.script(load(SRC, xjit)["bare"])(ONE)
