"""`xjit-run` (xjit/run.py), run as a subprocess: archives and torch-/loops-level .mlir files,
outputs printed or written to .npz, and every error as one line on stderr with exit status 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from models import MyCell

import xjit as torch

TORCH_MLIR = """\
func.func @f(%x: !torch.vtensor<[3,4],f32>, %h: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
  %int1 = torch.constant.int 1
  %1 = torch.aten.add.Tensor %x, %h, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  %2 = torch.aten.tanh %1 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return %2 : !torch.vtensor<[3,4],f32>
}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    cell = MyCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    torch.jit.trace(cell, (x, h)).save(d / "cell.xjit")
    np.save(d / "x.npy", x.numpy())
    np.save(d / "h.npy", h.numpy())
    np.save(d / "x64.npy", x.numpy().astype(np.float64))
    np.save(d / "x54.npy", np.zeros((5, 4), np.float32))
    np.save(d / "obj.npy", np.array([None], dtype=object), allow_pickle=True)
    expect = np.tanh(
        x.numpy() @ cell.linear.weight.numpy().T + cell.linear.bias.numpy() + h.numpy()
    )
    np.save(d / "expect.npy", expect)
    (d / "torch.mlir").write_text(TORCH_MLIR)
    # The same function lowered to the loops stage, as `xjit-opt -p torch-to-loops` would.
    from xdsl.parser import Parser

    from xjit.dialects import make_context
    from xjit.passes.pipelines import TorchToLoops

    ctx = make_context()
    m = Parser(ctx, TORCH_MLIR).parse_module()
    TorchToLoops().apply(ctx, m)
    (d / "loops.mlir").write_text(str(m))
    with zipfile.ZipFile(d / "cell.xjit") as z:
        (d / "archived.mlir").write_bytes(z.read("model.mlir"))
    (d / "garbage.xjit").write_text("not a zip")
    return d


def xjit_run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XJIT_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "xjit.run", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(r: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("xjit-run: error: "), r.stderr
    for f in fragments:
        assert f in lines[0], lines[0]
    assert r.stdout == ""


def test_console_script_is_installed() -> None:
    # `pip install -e .` (the CI set-up) installs the entry point of pyproject.toml: a missing
    # script is a packaging bug, not a reason to skip.
    exe = shutil.which("xjit-run", path=os.path.dirname(sys.executable)) or shutil.which("xjit-run")
    assert exe is not None, "xjit-run is not on PATH next to the interpreter (pip install -e .)"
    for cmd in ([exe], [sys.executable, "-m", "xjit.run"]):
        r = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "--input" in r.stdout, (cmd, r.stderr)


def test_archive_prints_outputs(files) -> None:
    r = xjit_run("cell.xjit", "--input", "x.npy", "--input", "h.npy", cwd=files)
    assert r.returncode == 0, r.stderr
    assert (
        r.stdout.count("output 0: float32 [3, 4]") == 1 and "output 1: float32 [3, 4]" in r.stdout
    )
    first = np.load(files / "expect.npy")[0]
    assert (
        np.array2string(first, threshold=1000).splitlines()[0].strip("[ ]").split()[0] in r.stdout
    )


def test_archive_writes_npz(files, tmp_path) -> None:
    out = tmp_path / "out.npz"
    r = xjit_run(
        "cell.xjit",
        "-i",
        "x.npy",
        "-i",
        "h.npy",
        "--output",
        str(out),
        "--method",
        "forward",
        cwd=files,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    with np.load(out) as z:
        assert sorted(z.files) == ["output_0", "output_1"]
        np.testing.assert_allclose(
            z["output_0"], np.load(files / "expect.npy"), rtol=1e-5, atol=1e-6
        )
        np.testing.assert_array_equal(z["output_0"], z["output_1"])
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]  # no temporary left


@pytest.mark.parametrize("level", ["torch", "loops"])
def test_mlir_files(files, tmp_path, level) -> None:
    out = tmp_path / "o.npz"
    r = xjit_run(
        f"{level}.mlir", "--entry", "f", "-i", "x.npy", "-i", "h.npy", "-o", str(out), cwd=files
    )
    assert r.returncode == 0, r.stderr
    with np.load(out) as z:
        assert z.files == ["output_0"]
        expect = np.tanh(np.load(files / "x.npy") + np.load(files / "h.npy"))
        np.testing.assert_allclose(z["output_0"], expect, rtol=1e-6)


def test_int_result_of_a_torch_mlir_function(tmp_path: Path) -> None:
    """A `!torch.int` result (a loop's counter) is printed, not an internal error (fuzz.cli)."""
    (tmp_path / "count.mlir").write_text(
        """func.func @count(%x: !torch.vtensor<[?],f32>) -> !torch.int {
  %int0 = torch.constant.int 0
  %true = torch.constant.bool true
  %n = torch.aten.size.int %x, %int0 : !torch.vtensor<[?],f32>, !torch.int -> !torch.int
  %k = torch.prim.Loop %n, %true, init(%int0) {
  ^bb0(%i: !torch.int, %a: !torch.int):
    %b = torch.aten.add.int %a, %i : !torch.int, !torch.int -> !torch.int
    torch.prim.Loop.condition %true, iter(%b : !torch.int)
  } : (!torch.int, !torch.bool, !torch.int) -> !torch.int
  func.return %k : !torch.int
}
"""
    )
    np.save(tmp_path / "x.npy", np.zeros(4, np.float32))
    out = tmp_path / "o.npz"
    r = xjit_run("count.mlir", "--entry", "count", "-i", "x.npy", "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with np.load(out) as z:
        assert int(z["output_0"]) == 0 + 1 + 2 + 3


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["missing.xjit", "-i", "x.npy"], ["'missing.xjit' not found"]),
        (["cell.xjit", "-i", "x.npy"], ["expected 2 arguments", "got 1"]),
        (["cell.xjit", "-i", "x.npy", "-i", "h.npy", "-i", "h.npy"], ["expected 2 arguments"]),
        (["cell.xjit", "-i", "x54.npy", "-i", "h.npy"], ["shape [5, 4], expected [3, 4]"]),
        (["cell.xjit", "-i", "x64.npy", "-i", "h.npy"], ["dtype float64, expected float32"]),
        (["cell.xjit", "-i", "nope.npy", "-i", "h.npy"], ["input file 'nope.npy' not found"]),
        (["cell.xjit", "-i", "obj.npy", "-i", "h.npy"], ["not a readable .npy", "allow_pickle"]),
        (["cell.xjit", "-i", "cell.xjit"], ["is an .npz archive"]),
        (["garbage.xjit", "-i", "x.npy"], ["not an xjit archive"]),
        (["cell.xjit", "--method", "backward"], ["no method 'backward'", "forward"]),
        (["cell.xjit", "--bogus"], ["unrecognized arguments: --bogus"]),
        ([], ["required"]),
        (["torch.mlir", "--entry", "g", "-i", "x.npy"], ["no function @g", "defined: f"]),
        (["torch.mlir", "--entry", "f", "-i", "x.npy"], ["expected 2 arguments"]),
        (["loops.mlir", "--entry", "f", "-i", "x.npy"], ["expects 2 inputs, got 1"]),
        (
            ["loops.mlir", "--entry", "f", "-i", "x54.npy", "-i", "h.npy"],
            ["shape [5, 4], expected [3, 4]"],
        ),
        (
            ["loops.mlir", "--entry", "f", "-i", "x64.npy", "-i", "h.npy"],
            ["dtype float64, expected float32"],
        ),
        (
            ["archived.mlir", "--entry", "forward", "-i", "x.npy", "-i", "h.npy"],
            ["global slot @linear.weight has no value"],
        ),
        (["garbage.mlir"], ["not found"]),
    ],
)
def test_errors_are_one_line(files, args, fragments) -> None:
    assert_one_line_error(xjit_run(*args, cwd=files), *fragments)


def test_run_time_checks_are_the_tools_error(files, tmp_path) -> None:
    """An index torch refuses fails the compiled code's run-time check: one line, naming the
    check (found by fuzz.cli as an internal error)."""
    src = (
        Path(__file__).parent.parent
        / "lit_tests"
        / "passes"
        / "convert-torch-to-linalg-gather.mlir"
    )
    np.save(tmp_path / "x.npy", np.zeros((3, 4), np.float32))
    np.save(tmp_path / "i.npy", np.array([-1, 0]))  # numpy alone would wrap the -1
    r = xjit_run(str(src), "--entry", "index_select", "-i", "x.npy", "-i", "i.npy", cwd=tmp_path)
    assert_one_line_error(r, "@index_select failed", "index out of range in self")


def test_parse_error_is_located(files, tmp_path) -> None:
    (tmp_path / "bad.mlir").write_text("func.func @f() {\n  %0 = torch.aten.nope\n}\n")
    assert_one_line_error(
        xjit_run(str(tmp_path / "bad.mlir"), cwd=files), "bad.mlir:", "torch.aten.nope"
    )


def test_unbound_loops_global(files, tmp_path) -> None:
    (tmp_path / "g.mlir").write_text(
        '"memref.global"() <{sym_name = "w", type = memref<4xf32>, initial_value, '
        'sym_visibility = "private", constant}> : () -> ()\n'
        "func.func @f() -> memref<4xf32> {\n"
        "  %0 = memref.get_global @w : memref<4xf32>\n"
        "  func.return %0 : memref<4xf32>\n}\n"
    )
    assert_one_line_error(
        xjit_run(str(tmp_path / "g.mlir"), "--entry", "f", cwd=files), "@w", "no array bound"
    )


def test_tampered_archive(files, tmp_path) -> None:
    data = bytearray((files / "cell.xjit").read_bytes())
    (tmp_path / "t.xjit").write_bytes(bytes(data[: len(data) // 2]))
    assert_one_line_error(
        xjit_run(str(tmp_path / "t.xjit"), "-i", "x.npy", cwd=files), "corrupt or truncated"
    )


def _with_model_mlir(src: Path, dst: Path, text: str) -> Path:
    """A copy of the archive `src` whose model.mlir is `text`, its manifest checksums updated
    so that only the IR is hostile."""
    import hashlib
    import json

    with zipfile.ZipFile(src) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["model.mlir"] = text.encode()
    man = json.loads(entries["manifest.json"])
    for n, b in entries.items():
        if n in man.get("entries", {}):
            man["entries"][n] = {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
    entries["manifest.json"] = json.dumps(man).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in entries.items():
            z.writestr(n, b)
    return dst


def test_archive_with_unterminated_string_fails_fast(files, tmp_path) -> None:
    # xjit.jit.load parses model.mlir through the same guard as the tools: a 100,000-character
    # unterminated string is a located error at once (xDSL alone would backtrack for ever).
    bad = _with_model_mlir(
        files / "cell.xjit", tmp_path / "s.xjit", 'builtin.module {\n  "' + "a" * 100_000 + "\n}\n"
    )
    r = xjit_run(str(bad), "-i", "x.npy", "-i", "h.npy", cwd=files)
    assert_one_line_error(r, "model.mlir does not parse: model.mlir:2:3: unterminated string")


def test_archive_with_self_use_is_rejected(files, tmp_path) -> None:
    text = (files / "archived.mlir").read_text()
    # The archived method computes %2 = tanh %1: make it use its own result.
    bad_text = text.replace("torch.aten.tanh %1 ", "torch.aten.tanh %2 ", 1)
    assert bad_text != text
    bad = _with_model_mlir(files / "cell.xjit", tmp_path / "d.xjit", bad_text)
    r = xjit_run(str(bad), "-i", "x.npy", "-i", "h.npy", cwd=files)
    assert_one_line_error(r, "model.mlir does not verify: model.mlir:", "own result")


def test_float16_input_is_named(files, tmp_path) -> None:
    np.save(tmp_path / "x16.npy", np.load(files / "x.npy").astype(np.float16))
    x16 = str(tmp_path / "x16.npy")
    r = xjit_run("torch.mlir", "--entry", "f", "-i", x16, "-i", "h.npy", cwd=files)
    assert_one_line_error(r, f"input 0 '{x16}'", "float16", "argument 0 expects float32")
    r = xjit_run("cell.xjit", "-i", x16, "-i", "h.npy", cwd=files)
    assert_one_line_error(r, f"input 0 '{x16}'", "unsupported dtype float16")
    r = xjit_run("loops.mlir", "--entry", "f", "-i", x16, "-i", "h.npy", cwd=files)
    assert_one_line_error(r, "input 0 has dtype float16, expected float32")


def test_out_of_memory_is_the_tools_error(tmp_path, capsys) -> None:
    # A torch-level file whose sizes no machine holds (4 TB of ones): numpy refuses the
    # allocation, and xjit-run says so in one line (was an "internal error: MemoryError").
    from xjit.run import main

    n = 1_000_000
    vt = f"!torch.vtensor<[{n},{n}],f32>"
    (tmp_path / "huge.mlir").write_text(
        f"""func.func @forward(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {{
  %n = torch.constant.int {n}
  %none = torch.constant.none
  %l = torch.prim.ListConstruct %n, %n : (!torch.int, !torch.int) -> !torch.list<int>
  %z = torch.aten.ones %l, %none : !torch.list<int>, !torch.none -> {vt}
  %s = torch.aten.sum %z, %none : {vt}, !torch.none -> !torch.vtensor<[],f32>
  %int1 = torch.constant.int 1
  %r = torch.aten.add.Tensor %x, %s, %int1 : !torch.vtensor<[3],f32>, !torch.vtensor<[],f32>, !torch.int -> !torch.vtensor<[3],f32>
  func.return %r : !torch.vtensor<[3],f32>
}}
"""
    )
    np.save(tmp_path / "x.npy", np.ones(3, np.float32))
    assert main([str(tmp_path / "huge.mlir"), "-i", str(tmp_path / "x.npy")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("xjit-run: error: @forward failed: out of memory: "), err
    assert len(err.splitlines()) == 1
