"""`xjit-import model.pt2 -o model.xjit`: a `torch.export.save` file becomes an archive that
`xjit-run` runs with PyTorch unimportable; errors are one line and exit status 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from import_models import MLP, Structured

BIN = Path(sys.executable).parent


def _xjit_import(*args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / "xjit-import"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "xjit.import_cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300)


def test_import_then_run_without_torch(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = MLP().eval()
    x = torch.randn(3, 8)
    pt2 = tmp_path / "mlp.pt2"
    torch.export.save(torch.export.export(model, (x,)), str(pt2))
    proc = _xjit_import(str(pt2), "-o", str(tmp_path / "mlp.xjit"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    x2 = torch.randn(3, 8)
    np.save(tmp_path / "x.npy", x2.numpy())
    run = (
        "import sys; sys.modules['torch'] = None\n"
        "from xjit.run import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    out = tmp_path / "out.npz"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            run,
            str(tmp_path / "mlp.xjit"),
            "--input",
            str(tmp_path / "x.npy"),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with torch.no_grad():
        want = model(x2).numpy()
    np.testing.assert_allclose(np.load(out)["output_0"], want, rtol=1e-5, atol=1e-6)


def test_structured_outputs_through_xjit_run(tmp_path: Path) -> None:
    """A dict input is passed flat; the None output has no value: xjit-run writes the tensors."""
    torch.manual_seed(1)
    model = Structured().eval()
    x, h = torch.randn(2, 4), torch.randn(2, 4)
    pt2 = tmp_path / "s.pt2"
    torch.export.save(torch.export.export(model, (x, {"h": h})), str(pt2))
    assert _xjit_import(str(pt2), "-o", str(tmp_path / "s.xjit")).returncode == 0
    np.save(tmp_path / "x.npy", x.numpy())
    np.save(tmp_path / "h.npy", h.numpy())
    run = "import sys; sys.modules['torch'] = None\nfrom xjit.run import main\nsys.exit(main(sys.argv[1:]))\n"
    out = tmp_path / "out.npz"
    args = [str(tmp_path / "s.xjit"), "-i", str(tmp_path / "x.npy"), "-i", str(tmp_path / "h.npy")]
    proc = subprocess.run(
        [sys.executable, "-c", run, *args, "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with torch.no_grad():
        y, none, (sig, h2) = model(x, {"h": h})
    assert none is None
    got = np.load(out)
    assert sorted(got.files) == ["output_0", "output_1", "output_2"]
    for name, want in zip(("output_0", "output_1", "output_2"), (y, sig, h2), strict=True):
        np.testing.assert_allclose(got[name], want.numpy(), rtol=1e-5, atol=1e-6)


def _error_of(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pt2"
    err = _error_of(_xjit_import(str(missing), "-o", str(tmp_path / "m.xjit")))
    assert err == f"xjit-import: error: {missing}: no such file"


def test_not_a_program(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt2"
    bad.write_bytes(b"not a zip")
    err = _error_of(_xjit_import(str(bad), "-o", str(tmp_path / "m.xjit")))
    assert err.startswith(f"xjit-import: error: {bad}: not a torch.export program: ")
    assert not (tmp_path / "m.xjit").exists()


def test_unsupported_ops_on_one_line(tmp_path: Path) -> None:
    class Unsupported(torch.nn.Module):
        def forward(self, x):
            y = torch.nn.functional.max_pool2d(x, 2, return_indices=True)[1]
            return torch.ops.aten.native_layer_norm(x, [4], None, None, 1e-5)[1], y

    pt2 = tmp_path / "bad_ops.pt2"
    torch.export.save(torch.export.export(Unsupported(), (torch.randn(1, 1, 4, 4),)), str(pt2))
    err = _error_of(_xjit_import(str(pt2), "-o", str(tmp_path / "m.xjit")))
    assert err.startswith(
        f"xjit-import: error: {pt2}: cannot import the program: 2 unsupported ATen ops (2 nodes): "
    ), err
    assert "aten.max_pool2d_with_indices.default (its indices output is used) x1  at " in err, err
    assert "aten.native_layer_norm.default (its mean/rstd outputs are used) x1  at " in err, err
    assert "\n" not in err.rstrip("\n"), err
    assert not (tmp_path / "m.xjit").exists()


def test_output_is_required(tmp_path: Path) -> None:
    err = _error_of(_xjit_import(str(tmp_path / "x.pt2")))
    assert err.startswith("xjit-import: error: the following arguments are required: -o/--output")
