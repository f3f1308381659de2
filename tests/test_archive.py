"""`.xjit` archives (xjit/jit/archive.py, docs/archive.md): round trips, a save in one process and
a load in another with the model's source gone, determinism, atomic saves, and every way a
hostile, corrupt or tampered archive must fail with `ArchiveError` (and run nothing)."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from models import MyCell

import xjit as torch
from xjit.jit import ArchiveError
from xjit.jit import archive as ar


class Inner(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 3, bias=False)  # `bias` registered as None
        self.register_buffer("scale", torch.rand(3))
        self.act = torch.nn.ReLU()

    def forward(self, x):
        return self.act(self.lin(x)) * self.scale


class Outer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.inner = Inner()
        self.head = torch.nn.Linear(3, 2)
        self.tied = self.head.weight  # the same Parameter under two names

    def forward(self, x):
        y = self.inner(x)
        return [self.head(y), (y, y + 1)]


def numpy_mycell(cell, x, h):
    w, b = cell.linear.weight.numpy(), cell.linear.bias.numpy()
    return np.tanh(x.numpy() @ w.T + b + h.numpy())


@pytest.fixture
def mycell(tmp_path):
    torch.manual_seed(0)
    cell = MyCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    traced = torch.jit.trace(cell, (x, h))
    path = tmp_path / "mycell.xjit"
    traced.save(path)
    return cell, traced, (x, h), path


# -- round trips -----------------------------------------------------------------------------


def test_round_trip_in_process(mycell) -> None:
    cell, traced, (x, h), path = mycell
    loaded = torch.jit.load(path)
    assert repr(loaded) == repr(traced) == repr(cell)
    assert loaded.code == traced.code
    assert loaded.graph == traced.graph
    rng = np.random.default_rng(0)
    for xs in [
        (x, h),
        *[
            tuple(torch.from_numpy(rng.standard_normal((3, 4), dtype=np.float32)) for _ in range(2))
            for _ in range(3)
        ],
    ]:
        a, b = loaded(*xs)
        assert a is b  # `return new_h, new_h`: one tensor twice, as before saving
        np.testing.assert_array_equal(a.numpy(), traced(*xs)[0].numpy())
        np.testing.assert_allclose(a.numpy(), numpy_mycell(cell, *xs), rtol=1e-5, atol=1e-6)
    assert isinstance(loaded.linear.weight, torch.nn.Parameter)
    assert {k: v.numpy().tolist() for k, v in loaded.state_dict().items()} == {
        k: v.numpy().tolist() for k, v in cell.state_dict().items()
    }
    # Parameters are bound by reference, as in a traced module.
    loaded.load_state_dict({k: v.numpy() * 0 for k, v in loaded.state_dict().items()})
    np.testing.assert_array_equal(loaded(x, h)[0].numpy(), np.tanh(h.numpy()))


def test_round_trip_nested_hierarchy_buffers_none_and_tied(tmp_path) -> None:
    torch.manual_seed(3)
    model = Outer()
    x = torch.rand(2, 4)
    traced = torch.jit.trace(model, x)
    torch.jit.save(traced, tmp_path / "outer.xjit")  # the function form
    loaded = torch.jit.load(tmp_path / "outer.xjit")
    assert repr(loaded) == repr(model)
    assert loaded.code == traced.code and loaded.graph == traced.graph
    out, (y, y1) = loaded(x)
    assert isinstance(loaded(x), list)  # the output structure survives: list[Tensor, tuple]
    expect = model(x)
    np.testing.assert_allclose(out.numpy(), expect[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(y1.numpy(), expect[1][1].numpy(), rtol=1e-6)
    assert loaded.inner.lin.bias is None
    assert "bias" in loaded.inner.lin._parameters
    assert type(loaded.inner.scale) is torch.Tensor  # a buffer, not a Parameter
    assert loaded.tied is loaded.head.weight  # tying survives
    assert loaded.training == model.training


def test_loaded_module_saves_identically(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    torch.jit.load(path).save(tmp_path / "again.xjit")
    assert (tmp_path / "again.xjit").read_bytes() == path.read_bytes()


MODEL_SRC = textwrap.dedent("""
    import xjit as torch

    class WrapCell(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)
            self.out = torch.nn.Linear(4, 2)

        def forward(self, x, h):
            new_h = torch.tanh(self.linear(x) + h)
            return self.out(new_h), new_h
""")

SAVE_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import xjit as torch
    from my_private_model import WrapCell

    torch.manual_seed(7)
    m = WrapCell()
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    traced = torch.jit.trace(m, (x, h))
    traced.save(sys.argv[1] + "/model.xjit")
    np.save(sys.argv[1] + "/x.npy", x.numpy()); np.save(sys.argv[1] + "/h.npy", h.numpy())
    y, new_h = m(x, h)
    np.save(sys.argv[1] + "/y.npy", y.numpy()); np.save(sys.argv[1] + "/new_h.npy", new_h.numpy())
    open(sys.argv[1] + "/expected.txt", "w").write(repr(traced) + "\\n---\\n" + traced.code + "\\n---\\n" + traced.graph)
""")

LOAD_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import xjit as torch
    try:
        import my_private_model  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the model source must not be importable here")
    d = sys.argv[1]
    m = torch.jit.load(d + "/model.xjit")
    x, h = torch.from_numpy(np.load(d + "/x.npy")), torch.from_numpy(np.load(d + "/h.npy"))
    y, new_h = m(x, h)
    np.testing.assert_allclose(y.numpy(), np.load(d + "/y.npy"), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(new_h.numpy(), np.load(d + "/new_h.npy"), rtol=1e-6, atol=1e-6)
    got = repr(m) + "\\n---\\n" + m.code + "\\n---\\n" + m.graph
    assert got == open(d + "/expected.txt").read(), got
    print("LOADED OK")
""")


def _python(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XJIT_DEBUG")}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_save_in_one_process_load_in_another_without_the_source(tmp_path) -> None:
    src, out, elsewhere = tmp_path / "src", tmp_path / "out", tmp_path / "elsewhere"
    for d in (src, out, elsewhere):
        d.mkdir()
    (src / "my_private_model.py").write_text(MODEL_SRC)
    saved = _python(SAVE_SCRIPT, str(out), cwd=src)
    assert saved.returncode == 0, saved.stderr
    (src / "my_private_model.py").unlink()  # the source is gone
    loaded = _python(LOAD_SCRIPT, str(out), cwd=elsewhere)
    assert loaded.returncode == 0, loaded.stderr + loaded.stdout
    assert "LOADED OK" in loaded.stdout


# -- determinism and atomic saves --------------------------------------------------------------


def test_deterministic_bytes(mycell, tmp_path) -> None:
    _, traced, _, path = mycell
    traced.save(tmp_path / "b.xjit")
    assert (tmp_path / "b.xjit").read_bytes() == path.read_bytes()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names == sorted(names)
        assert names == [
            "manifest.json",
            "model.mlir",
            "tensors/linear.bias.npy",
            "tensors/linear.weight.npy",
        ]
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_deterministic_across_processes(tmp_path) -> None:
    script = textwrap.dedent("""
        import sys
        import xjit as torch
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.Linear(4, 4)
                self.b = torch.nn.Linear(4, 4)
            def forward(self, x):
                return self.b(torch.tanh(self.a(x)))
        torch.manual_seed(0)
        torch.jit.trace(M(), torch.rand(2, 4)).save(sys.argv[1])
    """)
    for i, seed in enumerate(["1", "2"]):  # different hash seeds: set/dict order must not leak
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env.pop("PYTHONPATH", None)
        r = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / f"{i}.xjit")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "0.xjit").read_bytes() == (tmp_path / "1.xjit").read_bytes()


class _Boom(Exception):
    pass


def _failing_writestr(monkeypatch) -> None:
    real = zipfile.ZipFile.writestr
    calls = {"n": 0}

    def writestr(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # after some bytes are written
            raise _Boom("disk on fire")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)


def test_failing_save_leaves_no_file(mycell, tmp_path, monkeypatch) -> None:
    _, traced, _, _ = mycell
    target = tmp_path / "new" / "m.xjit"
    target.parent.mkdir()
    _failing_writestr(monkeypatch)
    with pytest.raises(_Boom):
        traced.save(target)
    assert list(target.parent.iterdir()) == []  # no target, no temporary left behind


def test_failing_save_keeps_existing_file(mycell, monkeypatch) -> None:
    _, traced, _, path = mycell
    before = path.read_bytes()
    _failing_writestr(monkeypatch)
    with pytest.raises(_Boom):
        traced.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    torch.jit.load(path)  # still a good archive


def test_unsavable_module_keeps_existing_file(mycell) -> None:
    cell, _, _, path = mycell
    before = path.read_bytes()
    with pytest.raises(ArchiveError, match="no compiled methods"):
        torch.jit.save(cell, path)  # an eager module: nothing compiled to save
    assert path.read_bytes() == before


# -- crafting archives: what an attacker (or a flipped bit) can hand to `load` -------------------


def read_entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_archive(path: Path, entries: dict[str, bytes], fix_checksums: bool = True) -> Path:
    """Write `entries` as a zip; with `fix_checksums`, the manifest's entry records are recomputed
    so that only the deliberate damage remains (a consistent, hostile archive)."""
    entries = dict(entries)
    if fix_checksums:
        man = json.loads(entries["manifest.json"])
        man["entries"] = {
            n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
            for n, b in entries.items()
            if n != "manifest.json"
        }
        entries["manifest.json"] = json.dumps(man).encode()
    with zipfile.ZipFile(path, "w") as z:
        for n, b in entries.items():
            z.writestr(n, b)
    return path


def edit_manifest(entries: dict[str, bytes], fn) -> dict[str, bytes]:
    man = json.loads(entries["manifest.json"])
    fn(man)
    return {**entries, "manifest.json": json.dumps(man).encode()}


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def rename_slot(entries: dict[str, bytes], old: str, new: str) -> dict[str, bytes]:
    """Rename a tensor everywhere (IR symbols, hierarchy, manifest, entry name), consistently."""
    from xdsl.dialects.builtin import StringAttr, SymbolRefAttr
    from xdsl.parser import Parser

    from xjit.dialects import make_context
    from xjit.dialects.torch import GlobalSlotGetOp, GlobalSlotOp

    outer = Parser(make_context(), entries["model.mlir"].decode()).parse_module()
    for op in outer.walk():
        if isinstance(op, GlobalSlotOp) and op.sym_name.data == old:
            op.properties["sym_name"] = StringAttr(new)
        if isinstance(op, GlobalSlotGetOp) and op.slot.root_reference.data == old:
            op.properties["slot"] = SymbolRefAttr(new)
    h = ar._from_attr(outer.attributes[ar.HIERARCHY_ATTR])

    def fix(node):
        for key in ("parameters", "buffers"):
            node[key] = [[n, new if k == old else k] for n, k in node[key]]
        for _, c in node["children"]:
            if c is not None:
                fix(c)

    fix(h)
    outer.attributes[ar.HIERARCHY_ATTR] = ar._to_attr(h)
    out = {**entries, "model.mlir": ar._print_ir(outer).encode()}
    old_entry, new_entry = ar.entry_name(old), ar.entry_name(new)
    out[new_entry] = out.pop(old_entry)

    def man_fix(man):
        man["tensors"][new] = {**man["tensors"].pop(old), "entry": new_entry}
        for sig in man["methods"].values():
            sig["tensors"] = sorted(new if t == old else t for t in sig["tensors"])

    return edit_manifest(out, man_fix)


def assert_archive_error(path: Path, *fragments: str) -> None:
    with pytest.raises(ArchiveError) as info:
        torch.jit.load(path)
    for f in fragments:
        assert f in str(info.value), str(info.value)


def test_helper_round_trip_is_loadable(mycell, tmp_path) -> None:
    # The crafting helpers alone do not break an archive: failures below are the damage's.
    _, _, (x, h), path = mycell
    entries = rename_slot(read_entries(path), "linear.weight", "linear.w2")
    m = torch.jit.load(write_archive(tmp_path / "ok.xjit", entries))
    np.testing.assert_array_equal(m(x, h)[0].numpy(), torch.jit.load(path)(x, h)[0].numpy())


# -- safety: nothing in an archive runs --------------------------------------------------------


def hostile_names(canary: Path) -> list[str]:
    c = str(canary)
    return [
        f"w'); open({c!r}, 'w'); ('",
        f'w"); open({c!r}, "w"); ("',
        f"w\nopen({c!r}, 'w')\n",
        f"__import__('os').system('touch {c}')",
        f"x = open({c!r}, 'w') #",
        "../../escaped",
        "/absolute/path",
        "..",
        "def",  # a Python keyword
        "np",  # a name the generated module uses
    ]


@pytest.mark.parametrize("index", range(10))
def test_hostile_tensor_names_reach_nothing(mycell, tmp_path, index) -> None:
    _, _, (x, h), path = mycell
    canary = tmp_path / "PWNED"
    name = hostile_names(canary)[index]
    crafted = write_archive(
        tmp_path / "hostile.xjit", rename_slot(read_entries(path), "linear.weight", name)
    )
    before = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*"))
    loaded = torch.jit.load(crafted)
    out = loaded(x, h)[0]
    np.testing.assert_array_equal(out.numpy(), torch.jit.load(path)(x, h)[0].numpy())
    assert not canary.exists()
    after = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*"))
    assert after == before  # loading and running wrote nothing anywhere
    # The generated source never holds the name outside a comment's repr(): it is code that
    # only ever reads a sanitised identifier bound to the array.
    source = loaded.forward.source
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not {"open", "__import__", "os", "exec", "eval"} & (names | calls)
    for line in source.splitlines():
        if len(name) > 4 and name in line:  # (short names like `..` occur in `[...]`)
            assert line.lstrip().startswith("#"), line
    assert loaded.state_dict()["linear.bias"] is not None


def test_hostile_method_and_function_names(mycell, tmp_path) -> None:
    _, _, (x, h), path = mycell
    canary = tmp_path / "PWNED"
    evil = f"f():\n    open({str(canary)!r}, 'w')\ndef g"
    entries = read_entries(path)
    text = entries["model.mlir"].decode()
    quoted = '"' + evil.replace("\\", "\\\\").replace("\n", "\\0A").replace('"', "\\22") + '"'
    text = text.replace("@forward", "@" + quoted).replace(
        'methods = ["forward"]', f"methods = [{quoted}]"
    )
    entries["model.mlir"] = text.encode()

    def fix(man):
        man["methods"] = {evil: man["methods"]["forward"]}

    loaded = torch.jit.load(write_archive(tmp_path / "h.xjit", edit_manifest(entries, fix)))
    fn = loaded._compiled_methods()[evil]
    np.testing.assert_array_equal(fn(x, h)[0].numpy(), torch.jit.load(path)(x, h)[0].numpy())
    assert not canary.exists()
    assert "open(" not in "".join(
        line for line in fn.source.splitlines() if not line.lstrip().startswith("#")
    )


def test_path_traversal_entries_are_refused_and_nothing_is_written(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    entries = read_entries(path)
    for bad in ["../../x", "/tmp/xjit-abs-x", "tensors/../../x.npy", "tensors\\..\\x.npy"]:
        crafted = dict(entries)
        crafted[bad] = npy(np.zeros(4, np.float32))
        p = write_archive(work / "t.xjit", crafted)
        before = sorted(tmp_path.rglob("*"))
        assert_archive_error(p, "unexpected entry")
        assert sorted(tmp_path.rglob("*")) == before
        assert not (tmp_path / "x").exists() and not Path("/tmp/xjit-abs-x").exists()

    # ... also when the manifest points a tensor at such an entry
    def point_outside(m):
        m["entries"]["../../x"] = m["entries"]["tensors/linear.bias.npy"]
        m["tensors"]["linear.bias"]["entry"] = "../../x"

    crafted = edit_manifest(dict(entries), point_outside)
    assert_archive_error(
        write_archive(work / "t.xjit", crafted, fix_checksums=False), "invalid entry name '../../x'"
    )


def test_pickled_arrays_are_never_unpickled(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    canary = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (open, (str(canary), "w"))

    buf = io.BytesIO()
    np.save(buf, np.array([Payload()], dtype=object), allow_pickle=True)
    entries = read_entries(path)
    entries["tensors/linear.bias.npy"] = buf.getvalue()
    assert_archive_error(
        write_archive(tmp_path / "p.xjit", entries), "tensor 'linear.bias'", "not a valid .npy"
    )
    assert not canary.exists()


# -- reliability: every kind of damage is an ArchiveError saying what is wrong -----------------


def test_not_a_zip_and_truncated(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    (tmp_path / "text.xjit").write_text("hello")
    assert_archive_error(tmp_path / "text.xjit", "not an xjit archive")
    data = path.read_bytes()
    for n in (0, 10, len(data) // 2, len(data) - 10):
        (tmp_path / "t.xjit").write_bytes(data[:n])
        assert_archive_error(tmp_path / "t.xjit", "corrupt or truncated")
    assert_archive_error(tmp_path / "missing.xjit", "no such file")


def test_flipped_byte_is_detected(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    data = bytearray(path.read_bytes())
    start = data.find(np.float32(torch.jit.load(path).linear.weight.numpy()[0, 0]).tobytes())
    assert start > 0
    data[start] ^= 0x01
    (tmp_path / "f.xjit").write_bytes(bytes(data))
    assert_archive_error(tmp_path / "f.xjit", "linear.weight")


def test_checksum_mismatch(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    entries = read_entries(path)
    entries["tensors/linear.weight.npy"] = npy(np.ones((4, 4), np.float32))  # a valid zip CRC
    assert_archive_error(
        write_archive(tmp_path / "c.xjit", entries, fix_checksums=False),
        "checksum mismatch",
        "tensors/linear.weight.npy",
    )


def test_missing_entry(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    entries = read_entries(path)
    del entries["tensors/linear.bias.npy"]
    assert_archive_error(
        write_archive(tmp_path / "m.xjit", entries, fix_checksums=False),
        "missing entry 'tensors/linear.bias.npy'",
    )
    entries = read_entries(path)
    del entries["manifest.json"]
    assert_archive_error(
        write_archive(tmp_path / "m2.xjit", entries, fix_checksums=False),
        "missing entry 'manifest.json'",
    )


def test_wrong_format_version(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    newer = ar.FORMAT_VERSION + 1
    entries = edit_manifest(read_entries(path), lambda m: m.update(format_version=newer))
    assert_archive_error(
        write_archive(tmp_path / "v.xjit", entries), f"format version {newer}", "newer xjit"
    )
    entries = edit_manifest(read_entries(path), lambda m: m.update(format="zip-of-stuff"))
    assert_archive_error(write_archive(tmp_path / "f.xjit", entries), "not an xjit archive")


def test_parameter_shape_disagrees_with_ir(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    entries = read_entries(path)
    entries["tensors/linear.weight.npy"] = npy(np.ones((4, 5), np.float32))
    entries = edit_manifest(entries, lambda m: m["tensors"]["linear.weight"].update(shape=[4, 5]))
    assert_archive_error(
        write_archive(tmp_path / "s.xjit", entries),
        "tensor 'linear.weight' is float32 [4, 5]",
        "IR declares",
    )
    # ... and an array that disagrees with the manifest
    entries = read_entries(path)
    entries["tensors/linear.weight.npy"] = npy(np.ones((4, 4), np.float64))
    assert_archive_error(
        write_archive(tmp_path / "d.xjit", entries), "tensor 'linear.weight'", "float64"
    )


def test_ir_that_does_not_verify(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    entries = read_entries(path)
    text = entries["model.mlir"].decode()
    bad = text.replace(
        "%2 = torch.aten.tanh %1 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>",
        "%2 = torch.aten.tanh %1 : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,5],f32>",
    )
    assert bad != text
    entries["model.mlir"] = bad.encode()
    assert_archive_error(write_archive(tmp_path / "v.xjit", entries), "model.mlir")


def test_ir_that_does_not_parse(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    entries = read_entries(path)
    entries["model.mlir"] = entries["model.mlir"].replace(b"torch.aten.tanh", b"torch.aten.tanhh")
    assert_archive_error(
        write_archive(tmp_path / "p.xjit", entries), "model.mlir does not parse: model.mlir:"
    )
    entries["model.mlir"] = b"\xff\xfe garbage"
    assert_archive_error(write_archive(tmp_path / "u.xjit", entries), "not UTF-8")


def test_ir_reads_a_slot_without_a_tensor(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    entries = read_entries(path)
    del entries["tensors/linear.bias.npy"]
    entries = edit_manifest(entries, lambda m: m["tensors"].pop("linear.bias"))
    assert_archive_error(write_archive(tmp_path / "n.xjit", entries), "linear.bias")


def test_manifest_disagrees_with_ir(mycell, tmp_path) -> None:
    _, _, _, path = mycell
    entries = edit_manifest(
        read_entries(path), lambda m: m["methods"]["forward"]["inputs"][0].update(shape=[9, 4])
    )
    assert_archive_error(write_archive(tmp_path / "i.xjit", entries), "inputs of method forward")
    entries = edit_manifest(
        read_entries(path),
        lambda m: m["methods"]["forward"].update(output_structure={"kind": "tensor"}),
    )
    assert_archive_error(write_archive(tmp_path / "o.xjit", entries), "output structure")
    entries = read_entries(path)
    entries["manifest.json"] = b"{not json"
    assert_archive_error(
        write_archive(tmp_path / "j.xjit", entries, fix_checksums=False), "not valid JSON"
    )
