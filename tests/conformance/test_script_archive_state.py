"""Saving and loading scripted modules whose graph depends on module state (`self.training`,
plain attributes such as `self.k`), against torch.jit.save/load of the same scripted module.

TorchScript reads that state at run time, so a loaded module follows `.eval()`/`.train()` and
attribute changes. An xjit archive holds the graph for the state it was saved in and for every
module in training and in eval mode: in those states the loaded module must agree with
PyTorch's; in any other (a changed attribute, mixed training flags) it must refuse (never run
stale code).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch as real_torch
from script_oracle import assert_same, load, to_torch

import xjit
from xjit.jit.archive import ArchiveError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

V = xjit.tensor([1.5, -2.0, 3.0])

SRC = """
from typing import List

class Mode(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = 2
        self.ks = [1, 3]

    def forward(self, x):
        y = x * self.k if self.training else x + 4
        return y + self.ks[1]

class Outer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.m = Mode()

    def forward(self, x):
        return self.m(x) - 1
"""


def _round_trip(tmp_path: Path, cls: str, prepare: object = None) -> tuple[object, object]:
    """(xjit's loaded module, torch's loaded module) of the same scripted module."""
    out = []
    for t in (xjit, real_torch):
        s = t.jit.script(load(SRC, t)[cls]())
        if prepare is not None:
            prepare(s)  # type: ignore[operator]
        path = tmp_path / f"{cls}_{t.__name__}.pt"
        t.jit.save(s, str(path))
        out.append(t.jit.load(str(path)))
    return out[0], out[1]


@pytest.mark.parametrize("cls", ["Mode", "Outer"])
def test_loaded_module_agrees_in_the_saved_state_and_refuses_other_states(
    tmp_path: Path, cls: str
) -> None:
    ours, theirs = _round_trip(tmp_path, cls)
    assert_same(ours(V), theirs(to_torch(V)), "as saved")
    inner = ours.m if cls == "Outer" else ours
    assert inner.k == 2 and inner.ks == [1, 3]  # the attributes read as before saving
    ours.eval()
    theirs.eval()
    assert_same(ours(V), theirs(to_torch(V)), "after .eval()")
    ours.train()
    theirs.train()
    assert_same(ours(V), theirs(to_torch(V)), "back in training mode")
    if cls == "Outer":
        ours.m.eval()  # mixed flags: no graph saved for them
        with pytest.raises(ArchiveError, match=r"the training flags .*'m': True.*'m': False"):
            ours(V)
        ours.m.train()
    inner.k = 7
    with pytest.raises(ArchiveError, match=r"k=2 \(now 7\)"):
        ours(V)
    inner.k = 2
    inner.ks = [1, 5]
    with pytest.raises(ArchiveError, match=r"ks=\[1, 3\] \(now \[1, 5\]\)"):
        ours(V)
    inner.ks = [1, 3]
    assert_same(ours(V), theirs(to_torch(V)), "state restored")


def test_saved_in_eval_mode_with_a_changed_attribute(tmp_path: Path) -> None:
    def prepare(s: object) -> None:
        s.eval()  # type: ignore[attr-defined]
        s.m.k = 5  # type: ignore[attr-defined]
        s.m.ks = [0, 9]  # type: ignore[attr-defined]

    ours, theirs = _round_trip(tmp_path, "Outer", prepare)
    assert not ours.training and not ours.m.training
    assert_same(ours(V), theirs(to_torch(V)), "as saved (eval, ks=[0, 9])")
    assert ours.m.ks == [0, 9]
    ours.train()
    theirs.train()
    assert_same(ours(V), theirs(to_torch(V)), "after .train() (ks=[0, 9])")
    ours.m.k = 3
    with pytest.raises(ArchiveError, match=r"k=5 \(now 3\)"):
        ours(V)


def test_saving_a_loaded_module_keeps_its_state(tmp_path: Path) -> None:
    ours, theirs = _round_trip(tmp_path, "Mode", lambda s: s.eval())
    again = tmp_path / "again.xjit"
    xjit.jit.save(ours, again)
    twice = xjit.jit.load(again)
    assert_same(twice(V), theirs(to_torch(V)))
    assert again.read_bytes() == (tmp_path / "Mode_xjit.pt").read_bytes()
    twice.train()
    theirs.train()
    assert_same(twice(V), theirs(to_torch(V)), "after .train()")


def test_an_old_reader_cannot_skip_the_state_check(tmp_path: Path) -> None:
    import json
    import zipfile

    ours, _ = _round_trip(tmp_path, "Mode")
    with zipfile.ZipFile(tmp_path / "Mode_xjit.pt") as z:
        man = json.loads(z.read("manifest.json"))
    # a version-3 reader would run it unchecked, a version-4 one could not switch to eval mode
    assert man["format_version"] == 5
    assert man["methods"]["forward"]["state"]["training"] == [True]
    assert [s["state"]["training"] for s in man["methods"]["forward"]["states"]] == [[False]]


def test_save_refuses_tuple_parameters_through_either_entry_point(tmp_path: Path) -> None:
    src = """
from typing import Tuple

def f(t: Tuple[torch.Tensor, torch.Tensor]):
    return t[0] + t[1]
"""
    sf = xjit.jit.script(load(src, xjit)["f"])
    for save in (sf.save, lambda p: xjit.jit.save(sf, p)):
        with pytest.raises(ArchiveError, match=r"Tuple\[\.\.\.\] parameters"):
            save(tmp_path / "f.xjit")
        assert not (tmp_path / "f.xjit").exists()
