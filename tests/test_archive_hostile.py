"""Hostile and damaged `.xjit` archives beyond tests/test_archive.py: zip bombs, impossible
declared shapes, foreign entries (a pickle, Python source, a real torch.jit archive), every
manifest field given a value of the wrong JSON type, bit flips, and `save` to a path it cannot
write or onto a full disk. Each must be a clear error (ArchiveError / the OSError naming the
target), run nothing, write nothing, and inflate nothing it has not read from the file."""

from __future__ import annotations

import copy
import errno
import hashlib
import io
import json
import os
import random
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from models import MyCell

import xjit
from xjit import run as xjit_run
from xjit.jit import ArchiveError


@pytest.fixture
def cell_archive(tmp_path: Path) -> tuple[Any, tuple[Any, Any], Path]:
    xjit.manual_seed(0)
    x, h = xjit.rand(3, 4), xjit.rand(3, 4)
    traced = xjit.jit.trace(MyCell(), (x, h))
    path = tmp_path / "cell.xjit"
    traced.save(path)
    return traced, (x, h), path


def entries_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write(path: Path, entries: dict[str, bytes], deflate: bool = False, fix: bool = True) -> Path:
    """A zip of `entries`; with `fix`, the manifest's size and sha256 records are recomputed,
    so that only the deliberate damage remains."""
    entries = dict(entries)
    if fix:
        man = json.loads(entries["manifest.json"])
        man["entries"] = {
            n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
            for n, b in entries.items()
            if n != "manifest.json"
        }
        entries["manifest.json"] = json.dumps(man).encode()
    method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        for n, b in entries.items():
            z.writestr(n, b)
    return path


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def with_manifest(entries: dict[str, bytes], man: dict[str, Any]) -> dict[str, bytes]:
    return {**entries, "manifest.json": json.dumps(man).encode()}


def refused(path: Path, *fragments: str) -> str:
    with pytest.raises(ArchiveError) as info:
        xjit.jit.load(path)
    for f in fragments:
        assert f in str(info.value), str(info.value)
    return str(info.value)


# -- unbounded memory --------------------------------------------------------------------------


def test_zip_bomb_tensor_is_refused_before_it_is_inflated(cell_archive, tmp_path, monkeypatch):
    _, _, path = cell_archive
    n = (64 << 20) // 4  # 64 MiB of zeros: deflate packs them about 1000:1
    e = entries_of(path)
    man = json.loads(e["manifest.json"])
    man["tensors"]["linear.bias"]["shape"] = [n]  # the manifest "allows" it
    bomb = write(
        tmp_path / "bomb.xjit",
        with_manifest({**e, "tensors/linear.bias.npy": npy(np.zeros(n, np.float32))}, man),
        deflate=True,
    )
    assert bomb.stat().st_size < (1 << 20)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    t0 = time.perf_counter()
    refused(bomb, "tensors/linear.bias.npy", "more than 200:1", "refused unread")
    assert time.perf_counter() - t0 < 5
    assert "tensors/linear.bias.npy" not in opened


def test_zip_bomb_manifest_is_refused(cell_archive, tmp_path):
    _, _, path = cell_archive
    e = entries_of(path)
    padded = e["manifest.json"][:-1] + b" " * (8 << 20) + b"}"  # valid JSON, 8 MiB of blanks
    bomb = write(tmp_path / "m.xjit", {**e, "manifest.json": padded}, deflate=True, fix=False)
    refused(bomb, "entry 'manifest.json' inflates", "refused unread")


def test_an_archive_xjit_writes_is_within_the_ratio(tmp_path):
    # Arrays are stored, text deflated: a large model of zeros (the best case for deflate) and
    # a long IR still load.
    xjit.manual_seed(0)
    net = xjit.nn.Sequential(*[xjit.nn.Linear(512, 512) for _ in range(8)])
    for p in net.parameters():
        p.data.zero_()
    x = xjit.rand(2, 512)
    path = tmp_path / "zeros.xjit"
    xjit.jit.trace(net, (x,)).save(path)
    np.testing.assert_array_equal(xjit.jit.load(path)(x).numpy(), np.zeros((2, 512), np.float32))


@pytest.mark.parametrize(
    "shape", [[2**70], [2**40, 2**40], [2**31, 2**31, 2**31]], ids=["2^70", "2^80", "2^93"]
)
def test_impossible_declared_shapes(cell_archive, tmp_path, shape):
    _, _, path = cell_archive
    e = entries_of(path)
    man = json.loads(e["manifest.json"])
    man["tensors"]["linear.bias"]["shape"] = shape
    refused(write(tmp_path / "s.xjit", with_manifest(e, man)), "impossible shape")


def test_declared_shape_larger_than_the_array(cell_archive, tmp_path):
    _, _, path = cell_archive
    e = entries_of(path)
    man = json.loads(e["manifest.json"])
    man["tensors"]["linear.bias"]["shape"] = [10**9]
    refused(write(tmp_path / "s.xjit", with_manifest(e, man)), "the array is float32 [4]")


def test_mismatched_dtype_is_refused(cell_archive, tmp_path):
    _, _, path = cell_archive
    e = entries_of(path)
    man = json.loads(e["manifest.json"])
    man["tensors"]["linear.bias"]["dtype"] = "float64"
    e["tensors/linear.bias.npy"] = npy(np.zeros(4, np.float64))
    refused(write(tmp_path / "d.xjit", with_manifest(e, man)), "float64", "float32")
    e = entries_of(path)
    e["tensors/linear.bias.npy"] = npy(np.zeros(4, np.float64))  # manifest still says float32
    refused(write(tmp_path / "d2.xjit", e), "tensor 'linear.bias'", "float64")


# -- nothing runs ------------------------------------------------------------------------------


class _Payload:
    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self) -> Any:
        return (open, (str(self.canary), "w"))


@pytest.mark.parametrize("name", ["data.pkl", "model.py", "tensors/evil.py", "extra/x/../../y"])
def test_foreign_entries_are_refused_unread(cell_archive, tmp_path, name):
    import pickle

    _, _, path = cell_archive
    canary = tmp_path / "PWNED"
    payload = (
        pickle.dumps(_Payload(canary))
        if name.endswith(".pkl")
        else f"open({str(canary)!r}, 'w')\n".encode()
    )
    refused(write(tmp_path / "f.xjit", {**entries_of(path), name: payload}), "unexpected entry")
    assert not canary.exists()


def test_a_real_torch_archive_is_not_an_xjit_archive(tmp_path):
    import torch

    class M(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + 1

    script = tmp_path / "m.pt"
    torch.jit.save(torch.jit.script(M()), str(script))
    refused(script, "unexpected entry")
    pickled = tmp_path / "state.pt"
    torch.save({"w": torch.ones(2)}, str(pickled))
    refused(pickled, "unexpected entry")
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.ones(2)}, str(legacy), _use_new_zipfile_serialization=False)
    refused(legacy, "not an xjit archive")


# -- wrong JSON types, bit flips: an ArchiveError, or the very same results ------------------------


def _json_paths(o: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    items = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(o, list) else ()
    for k, v in items:
        out += _json_paths(v, (*prefix, k))
    return out


_WRONG = [None, -1, "x", [], {}, True, 1.5, 2**70, [[1]], {"a": [1]}]


def _outputs(m: Any, args: tuple[Any, Any]) -> list[np.ndarray]:
    out = m(*args)
    return [t.numpy() for t in (out if isinstance(out, tuple | list) else [out])]


def _same_or_refused(path: Path, args: tuple[Any, Any], want: list[np.ndarray], what: str) -> None:
    try:
        m = xjit.jit.load(path)
    except ArchiveError:
        return
    got = _outputs(m, args)
    assert len(got) == len(want), what
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w, err_msg=what)


def test_every_manifest_field_with_a_wrong_json_type(cell_archive, tmp_path):
    traced, args, path = cell_archive
    want = _outputs(traced, args)
    e = entries_of(path)
    man = json.loads(e["manifest.json"])
    rng = random.Random(0)
    fields = [p for p in _json_paths(man) if p[0] != "entries"]  # `write` recomputes those
    for p in fields:
        for value in rng.sample(_WRONG, 4):
            bad = copy.deepcopy(man)
            node = bad
            for k in p[:-1]:
                node = node[k]
            node[p[-1]] = value
            crafted = write(tmp_path / "j.xjit", with_manifest(e, bad))
            _same_or_refused(crafted, args, want, f"manifest{list(p)} = {value!r}")


def test_bit_flips_are_refused_or_harmless(cell_archive, tmp_path):
    traced, args, path = cell_archive
    want = _outputs(traced, args)
    data = path.read_bytes()
    rng = random.Random(1)
    for pos in sorted(rng.sample(range(len(data)), 60)):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << rng.randrange(8)
        crafted = tmp_path / "b.xjit"
        crafted.write_bytes(bytes(flipped))
        _same_or_refused(crafted, args, want, f"bit flip at byte {pos}")


# -- xjit-run says it in one line --------------------------------------------------------------


def test_xjit_run_reports_a_bomb_in_one_line(cell_archive, tmp_path, capsys):
    _, (x, h), path = cell_archive
    n = (16 << 20) // 4
    e = entries_of(path)
    man = json.loads(e["manifest.json"])
    man["tensors"]["linear.bias"]["shape"] = [n]
    e["tensors/linear.bias.npy"] = npy(np.zeros(n, np.float32))
    bomb = write(tmp_path / "bomb.xjit", with_manifest(e, man), deflate=True)
    inputs = []
    for name, t in (("x", x), ("h", h)):
        np.save(tmp_path / f"{name}.npy", t.numpy())
        inputs += ["--input", str(tmp_path / f"{name}.npy")]
    assert xjit_run.main([str(bomb), *inputs]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"xjit-run: error: {bomb}: entry 'tensors/linear.bias.npy' inflates")


# -- save: an unwritable target or a full disk leaves nothing behind ------------------------------


def _listing(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


@pytest.mark.parametrize(
    "target,error",
    [
        ("missing/dir/m.xjit", FileNotFoundError),
        ("a_file/m.xjit", NotADirectoryError),
        ("a_dir", IsADirectoryError),
    ],
)
def test_save_to_an_unwritable_path_names_it(cell_archive, tmp_path, target, error):
    traced, _, _ = cell_archive
    out = tmp_path / "out"
    out.mkdir()
    (out / "a_file").write_text("keep")
    (out / "a_dir").mkdir()
    before = _listing(out)
    with pytest.raises(error) as info:
        traced.save(out / target)
    assert info.value.filename == str(out / target)  # not the temporary file's name
    assert _listing(out) == before
    assert (out / "a_file").read_text() == "keep"
    assert _listing(out / "a_dir") == []


@pytest.mark.parametrize("fail_in", ["write", "fsync"])
def test_save_onto_a_full_disk_keeps_the_old_archive(cell_archive, monkeypatch, fail_in):
    traced, args, path = cell_archive
    before = path.read_bytes()

    def full(*a: Any, **k: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if fail_in == "fsync":
        monkeypatch.setattr(os, "fsync", full)
    else:
        real_writestr = zipfile.ZipFile.writestr
        calls = {"n": 0}

        def writestr(self: zipfile.ZipFile, *a: Any, **k: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 2:  # the disk fills up after the first entry
                full()
            return real_writestr(self, *a, **k)

        monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(OSError) as info:
        traced.save(path)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(path)
    assert path.read_bytes() == before
    assert _listing(path.parent) == [path.name]  # no temporary left behind
    np.testing.assert_array_equal(_outputs(xjit.jit.load(path), args)[0], _outputs(traced, args)[0])
