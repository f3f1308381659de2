"""What an archive of an imported program keeps: the symbolic-dim checks of `dynamic_shapes`
(enforced by `xjit.jit.load` and `xjit-run` with PyTorch unimportable, where torch.export
refuses) and the nested input structure (the loaded module is called like the original), with
the manifest records validated strictly on load."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from import_models import Structured

import xjit
from xjit.jit.archive import ArchiveError


class TwoHeads(torch.nn.Module):
    """x and y share the batch dim, but their values never meet: nothing in the compiled code
    compares the two sizes, so only the guard can refuse a mismatched batch."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.lin(x).relu(), y * 2.0


def _export_two_heads() -> torch.export.ExportedProgram:
    torch.manual_seed(0)
    b = torch.export.Dim("b", min=2, max=10)
    return torch.export.export(
        TwoHeads().eval(), (torch.randn(3, 4), torch.randn(3, 5)), dynamic_shapes=({0: b}, {0: b})
    )


# Calls a loaded archive with PyTorch unimportable; prints the ArgumentError or the shapes.
_TORCH_FREE_CALL = r"""
import sys
sys.modules["torch"] = None
import numpy as np
import xjit
m = xjit.jit.load(sys.argv[1])
shapes = [tuple(int(n) for n in s.split("x")) for s in sys.argv[2:]]
args = [np.ones(s, np.float32) for s in shapes]
try:
    out = m(*args)
except xjit.jit.ArgumentError as e:
    print("refused:", e)
else:
    print("ran:", [tuple(o.shape) for o in out])
"""


def _torch_free_call(archive: Path, *shapes: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE_CALL, str(archive), *shapes],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _xjit_run(
    archive: Path, tmp_path: Path, *shapes: tuple[int, ...]
) -> subprocess.CompletedProcess[str]:
    files = []
    for i, s in enumerate(shapes):
        np.save(tmp_path / f"in{i}.npy", np.ones(s, np.float32))
        files += ["--input", str(tmp_path / f"in{i}.npy")]
    run = "import sys; sys.modules['torch'] = None\nfrom xjit.run import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run(
        [sys.executable, "-c", run, str(archive), *files, "--output", str(tmp_path / "o.npz")],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _torch_refuses(ep: torch.export.ExportedProgram, *shapes: tuple[int, ...]) -> bool:
    try:
        ep.module()(*[torch.ones(s) for s in shapes])
    except Exception:
        return True
    return False


def test_loaded_archive_checks_symbolic_dims(tmp_path: Path) -> None:
    ep = _export_two_heads()
    m = xjit.from_torch(ep)
    archive = tmp_path / "two.xjit"
    m.save(archive)
    # Agreeing batches run, as in PyTorch.
    assert not _torch_refuses(ep, (4, 4), (4, 5))
    assert _torch_free_call(archive, "4x4", "4x5") == "ran: [(4, 3), (4, 5)]"
    # A batch of 1 against a batch of 4: torch.export's guard refuses; so does the archive.
    assert _torch_refuses(ep, (4, 4), (1, 5))
    out = _torch_free_call(archive, "4x4", "1x5")
    assert out.startswith("refused: forward() input 'y' dim 0 is 1, expected 4"), out
    assert "input 'x' dim 0" in out
    # Out of the Dim's range [2, 10] (agreeing sizes): refused by both.
    assert _torch_refuses(ep, (11, 4), (11, 5))
    out = _torch_free_call(archive, "11x4", "11x5")
    assert out.startswith("refused: forward() input 'x' dim 0 is 11, expected a size in [2, 10]")
    # xjit-run takes the same path.
    assert _xjit_run(archive, tmp_path, (4, 4), (4, 5)).returncode == 0
    got = np.load(tmp_path / "o.npz")
    with torch.no_grad():
        want = ep.module()(torch.ones(4, 4), torch.ones(4, 5))
    np.testing.assert_allclose(got["output_0"], want[0].numpy(), rtol=1e-6)
    proc = _xjit_run(archive, tmp_path, (4, 4), (1, 5))
    assert proc.returncode == 1
    assert "error: forward() input 'y' dim 0 is 1, expected 4" in proc.stderr, proc.stderr
    proc = _xjit_run(archive, tmp_path, (1, 4), (1, 5))
    assert proc.returncode == 1 and "expected a size in [2, 10]" in proc.stderr, proc.stderr


def test_archive_of_structured_inputs_is_called_like_the_model(tmp_path: Path) -> None:
    torch.manual_seed(3)
    model = Structured().eval()
    x, h = torch.randn(2, 4), torch.randn(2, 4)
    m = xjit.from_torch(model, (x, {"h": h}))
    m.save(tmp_path / "s.xjit")
    loaded = xjit.jit.load(tmp_path / "s.xjit")
    loaded.save(tmp_path / "again.xjit")  # what load returned saves to the same bytes
    assert (tmp_path / "again.xjit").read_bytes() == (tmp_path / "s.xjit").read_bytes()
    x2, h2 = torch.randn(2, 4), torch.randn(2, 4)
    with torch.no_grad():
        want = [v for v in torch.utils._pytree.tree_leaves(model(x2, {"h": h2})) if v is not None]
    got = [
        v
        for v in torch.utils._pytree.tree_leaves(loaded(x2.numpy(), {"h": h2.numpy()}))
        if v is not None
    ]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(xjit.jit.ArgumentError, match=r"inputs\[0\]\[1\] must be a dict with keys"):
        loaded(x2.numpy(), h2.numpy())
    # The flat signature stays available (xjit-run's): forward(*tensors in pytree order).
    flat = loaded.forward(xjit.from_numpy(x2.numpy()), xjit.from_numpy(h2.numpy()))
    np.testing.assert_allclose(
        [v for v in torch.utils._pytree.tree_leaves(flat) if v is not None][0].numpy(),
        want[0].numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


# -- hostile manifests ------------------------------------------------------------------------
def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write(path: Path, entries: dict[str, bytes]) -> Path:
    """A consistent archive (checksums recomputed) that carries only the deliberate damage."""
    man = json.loads(entries["manifest.json"])
    man["entries"] = {
        n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
        for n, b in entries.items()
        if n != "manifest.json"
    }
    with zipfile.ZipFile(path, "w") as z:
        for n, b in entries.items():
            z.writestr(n, json.dumps(man).encode() if n == "manifest.json" else b)
    return path


def _deep(n: int) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": "tensor"}
    for _ in range(n):
        d = {"kind": "list", "children": [d]}
    return d


def _set(key: str, value: Any) -> Any:
    return lambda rec: rec.__setitem__(key, value)


def _constraint(**changes: Any) -> Any:
    def edit(rec: dict[str, Any]) -> None:
        rec["dim_constraints"][0].update(changes)

    return edit


HOSTILE = {
    "structure not a dict": (_set("input_structure", "__import__('os')"), "input structure"),
    "unknown kind": (_set("input_structure", {"kind": "object"}), "input structure"),
    "too deep": (_set("input_structure", _deep(150)), "input structure"),
    "wrong leaf count": (
        _set(
            "input_structure",
            {
                "kind": "tuple",
                "children": [
                    {"kind": "tuple", "children": [{"kind": "tensor"}]},
                    {"kind": "dict", "children": [], "keys": []},
                ],
            },
        ),
        "disagrees with its IR",
    ),
    "duplicate dict keys": (
        _set(
            "input_structure",
            {
                "kind": "tuple",
                "children": [
                    {"kind": "tuple", "children": []},
                    {
                        "kind": "dict",
                        "children": [{"kind": "tensor"}, {"kind": "tensor"}],
                        "keys": ["a", "a"],
                    },
                ],
            },
        ),
        "input structure",
    ),
    "constraints not a list": (_set("dim_constraints", {"b": 1}), "dim_constraints"),
    "input index out of range": (_constraint(occurrences=[[7, 0]]), "dim_constraints"),
    "dim out of range": (_constraint(occurrences=[[0, 5]]), "dim_constraints"),
    "negative index": (_constraint(occurrences=[[-1, 0]]), "dim_constraints"),
    "static dim": (_constraint(occurrences=[[0, 1]]), "static size"),
    "bool bound": (_constraint(min=True), "dim_constraints"),
    "float bound": (_constraint(max=2.5), "dim_constraints"),
    "extra field": (_constraint(code="print(1)"), "dim_constraints"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_records_are_refused(tmp_path: Path, case: str) -> None:
    edit, message = HOSTILE[case]
    xjit.from_torch(_export_two_heads()).save(tmp_path / "ok.xjit")
    entries = _entries(tmp_path / "ok.xjit")
    man = json.loads(entries["manifest.json"])
    assert man["format_version"] == 3  # a version-2 reader would skip the checks silently
    edit(man["methods"]["forward"])
    entries["manifest.json"] = json.dumps(man).encode()
    with pytest.raises(ArchiveError, match=message):
        xjit.jit.load(_write(tmp_path / "bad.xjit", entries))


def test_xjit_run_says_where_each_flat_input_goes(tmp_path: Path) -> None:
    torch.manual_seed(4)
    x, h = torch.randn(2, 4), torch.randn(2, 4)
    xjit.from_torch(Structured().eval(), (x, {"h": h})).save(tmp_path / "s.xjit")
    proc = _xjit_run(tmp_path / "s.xjit", tmp_path, (2, 4))
    assert proc.returncode == 1
    assert (
        "forward() expected 2 arguments, the tensors of the model's inputs in order "
        "(x = args[0], state_h = args[1]['h']), got 1 (pass one --input per argument)"
    ) in proc.stderr, proc.stderr
