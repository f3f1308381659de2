"""Archives of traces with guards, nested arguments and dict results (xjit/jit/archive_trace.py,
docs/archive.md format version 5), file objects and `_extra_files`: each loaded trace behaves as
the in-memory one (same results, same `TraceGuardError` naming the source line), compared with
real PyTorch where torch.jit.trace has the same feature; hostile guard records are refused."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as pt
from models import MyDecisionGate, MyGatedCell
from test_archive import edit_manifest, read_entries, write_archive

import xjit
from xjit.jit import ArchiveError, TraceGuardError


def _round_trip(obj: Any, path: Path | None = None) -> Any:
    if path is None:
        buf = io.BytesIO()
        xjit.jit.save(obj, buf)
        buf.seek(0)
        return xjit.jit.load(buf)
    xjit.jit.save(obj, path)
    return xjit.jit.load(path)


def _trace(fn: Any, example: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TracerWarnings of frozen control flow
        return xjit.jit.trace(fn, example, **kw)


def _guarded_cell() -> tuple[Any, Any]:
    cell = MyGatedCell(MyDecisionGate())
    with xjit.no_grad():  # the gate sees x itself: positive inputs take its first branch
        cell.linear.weight.copy_(xjit.from_numpy(np.eye(4, dtype=np.float32)))
        cell.linear.bias.zero_()
    x, h = xjit.rand(3, 4), xjit.rand(3, 4)
    return cell, _trace(cell, (x, h))


def test_value_guard_is_checked_after_load(tmp_path: Path) -> None:
    cell, traced = _guarded_cell()
    assert traced.guards, "the gate's `if x.sum() > 0` is a guard"
    loaded = _round_trip(traced, tmp_path / "cell.xjit")
    x, h = xjit.rand(3, 4), xjit.rand(3, 4)
    for got, want in zip(loaded(x, h), cell(x, h), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    # a call that would take the other branch: the same error as the in-memory trace
    neg = -xjit.ones(3, 4) * 10
    with pytest.raises(TraceGuardError) as mem:
        traced(neg, h)
    with pytest.raises(TraceGuardError) as info:
        loaded(neg, h)
    assert str(info.value) == str(mem.value)
    assert "if x.sum() > 0:" in str(info.value)
    assert info.value.file.endswith("models.py") and info.value.line == mem.value.line


def test_guard_source_line_travels_with_the_archive(tmp_path: Path) -> None:
    """Loaded in another process after the model's source file is gone, the error still names
    the file, line and its text (saved in the archive)."""
    src = tmp_path / "gate_model.py"
    src.write_text(
        "import xjit\n\ndef gate(x):\n    if x.sum() > 0:\n        return x * 2\n    return -x\n"
    )
    code = (
        "import sys, warnings, xjit\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "import gate_model\n"
        "warnings.simplefilter('ignore')\n"
        "t = xjit.jit.trace(gate_model.gate, (xjit.ones(3),))\n"
        f"xjit.jit.save(t, {str(tmp_path / 'gate.xjit')!r})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    src.unlink()
    loaded = xjit.jit.load(tmp_path / "gate.xjit")
    np.testing.assert_array_equal(loaded(xjit.ones(2)).numpy(), [2.0, 2.0])
    with pytest.raises(TraceGuardError, match=r"gate_model.py:4: trace guard failed") as info:
        loaded(-xjit.ones(2))
    assert "\n    if x.sum() > 0:\n" in str(info.value)


def test_size_guard_is_checked_after_load() -> None:
    """A size used in Python control flow: before format 5 the archive dropped this guard and a
    loaded trace silently returned the example's branch for other sizes."""

    def f(x):
        return x + 1 if x.shape[0] > 2 else x * 0

    traced = _trace(f, (xjit.ones(3, 2),))
    assert traced.guards and traced.guards[0].expr is not None
    loaded = _round_trip(traced)
    np.testing.assert_array_equal(loaded(xjit.ones(5, 2)).numpy(), np.full((5, 2), 2.0))
    with pytest.raises(TraceGuardError, match=r"size comparison `x.size\(0\) > 2`"):
        loaded(xjit.ones(2, 2))


def test_frozen_python_scalars_are_checked_after_load() -> None:
    def f(x):
        return x * float(x.sum()) + int(x.shape[0] * 2)

    traced = _trace(f, (xjit.ones(3),))
    kinds = sorted(g.kind for g in traced.guards)
    assert "float" in kinds, kinds
    loaded = _round_trip(traced)
    x = xjit.ones(3)
    np.testing.assert_array_equal(loaded(x).numpy(), f(x).numpy())
    with pytest.raises(TraceGuardError):
        loaded(xjit.ones(3) * 2)


def test_frozen_arrays_and_lists_are_checked_after_load() -> None:
    def f(x):
        k = x.numpy()  # an `array` guard
        return x * float(k.sum()) + x.tolist()[0]  # (k is numpy) a `tolist` guard

    traced = _trace(f, (xjit.ones(3),))
    assert {"array", "tolist"} <= {g.kind for g in traced.guards}
    loaded = _round_trip(traced)
    x = xjit.ones(3)
    np.testing.assert_array_equal(loaded(x).numpy(), f(x).numpy())
    with pytest.raises(TraceGuardError, match=r"`numpy\(\)` of a tensor"):
        loaded(xjit.ones(3) * 2)


def test_nested_arguments_and_dict_results_match_torch() -> None:
    def build(T: Any) -> Any:
        def f(pair, state):
            a, b = pair
            return {"sum": a + state["h"], "prod": a * b}, [b - state["h"]]

        return f

    rng = np.random.default_rng(0)
    a, b, h = (rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3))

    def args(T: Any, k: float = 1.0) -> tuple[Any, ...]:
        f = T.from_numpy
        return ((f(a * k), f(b.copy())), {"h": f(h.copy())})

    want_trace = pt.jit.trace(build(pt), args(pt), strict=False)
    traced = _trace(build(xjit), args(xjit), strict=False)
    loaded = _round_trip(traced)
    for k in (1.0, -2.0):
        (want, want_list), (got, got_list) = want_trace(*args(pt, k)), loaded(*args(xjit, k))
        assert list(got) == list(want) == ["sum", "prod"]
        for key in got:
            np.testing.assert_allclose(got[key].numpy(), want[key].numpy(), rtol=1e-6)
        assert isinstance(got_list, list) and len(got_list) == len(want_list) == 1
        np.testing.assert_allclose(got_list[0].numpy(), want_list[0].numpy(), rtol=1e-6)
    with pytest.raises(xjit.jit.ArgumentError, match=r"argument 1 has structure"):
        loaded(args(xjit)[0], xjit.ones(2, 3))


def test_traced_module_with_nested_input_and_resave_is_identical(tmp_path: Path) -> None:
    class M(xjit.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = xjit.nn.Linear(3, 3)

        def forward(self, xs):
            if xs[0].sum() > 0:
                return {"y": self.lin(xs[0] + xs[1])}
            return {"y": xs[1]}

    m = M()
    xs = [xjit.ones(2, 3), xjit.rand(2, 3)]
    traced = _trace(m, (xs,), strict=False)
    first = tmp_path / "m.xjit"
    loaded = _round_trip(traced, first)
    np.testing.assert_allclose(loaded(xs)["y"].numpy(), m(xs)["y"].numpy(), rtol=1e-6)
    with pytest.raises(TraceGuardError):
        loaded([-xjit.ones(2, 3), xs[1]])
    second = tmp_path / "again.xjit"
    loaded.save(second)
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(read_entries(first)["manifest.json"])["format_version"] == 5


def test_dict_with_non_string_keys_is_refused_at_save() -> None:
    traced = _trace(lambda x: {1: x + 1}, (xjit.ones(2),), strict=False)
    with pytest.raises(ArchiveError, match=r"dict key 1 of type int"):
        xjit.jit.save(traced, io.BytesIO())


def _guarded_archive(tmp_path: Path) -> dict[str, bytes]:
    traced = _trace(lambda x: x + 1 if x.shape[0] > 2 else x, (xjit.ones(3),))
    path = tmp_path / "size.xjit"
    xjit.jit.save(traced, path)
    return read_entries(path)


HOSTILE_EXPRS = [
    "__import__('os').system('touch PWNED')",
    "open('PWNED', 'w')",
    "(a0.shape[0] > 2) or open('PWNED', 'w')",
    "a0.__class__",
    "a0.shape[0] if 1 else 2",
    "a0.shape[7] > 2",  # not a dim of the argument
    "a1.shape[0] > 2",  # no such argument
    "a0.shape[0] > 2 > 1",
    "[c for c in ()]",
    "(" * 5000 + "1" + ")" * 5000,
]


@pytest.mark.parametrize("expr", HOSTILE_EXPRS)
def test_hostile_guard_expressions_are_refused(tmp_path: Path, expr: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    entries = _guarded_archive(tmp_path)

    def plant(man: dict[str, Any]) -> None:
        (sig,) = man["methods"].values()
        assert sig["guards"][0]["expr"] == "(a0.shape[0] > 2)"
        sig["guards"][0]["expr"] = expr

    path = write_archive(tmp_path / "bad.xjit", edit_manifest(entries, plant))
    with pytest.raises(ArchiveError, match=r"malformed trace guard 0"):
        xjit.jit.load(path)
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "eval", "malformed trace guard 0"),
        ("expected", ["float", "1.0"], "malformed trace guard 0"),  # a size check compares ints
        ("expected", ["int", "1"], "malformed trace guard 0"),
        ("line", -1, "malformed trace guard 0"),
    ],
)
def test_malformed_guard_records_are_refused(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    entries = _guarded_archive(tmp_path)

    def plant(man: dict[str, Any]) -> None:
        (sig,) = man["methods"].values()
        sig["guards"][0][field] = value

    path = write_archive(tmp_path / "bad.xjit", edit_manifest(entries, plant))
    with pytest.raises(ArchiveError, match=message):
        xjit.jit.load(path)


def test_argument_structure_must_match_the_ir(tmp_path: Path) -> None:
    entries = _guarded_archive(tmp_path)

    def plant(man: dict[str, Any]) -> None:
        (sig,) = man["methods"].values()
        sig["argument_structure"] = [{"kind": "tuple", "children": [{"kind": "tensor"}] * 2}]

    path = write_archive(tmp_path / "bad.xjit", edit_manifest(entries, plant))
    with pytest.raises(ArchiveError, match=r"argument structure of method .* disagrees"):
        xjit.jit.load(path)


def test_hidden_guard_values_must_be_in_the_output_structure(tmp_path: Path) -> None:
    _, traced = _guarded_cell()
    path = tmp_path / "cell.xjit"
    xjit.jit.save(traced, path)

    def plant(man: dict[str, Any]) -> None:
        (sig,) = man["methods"].values()
        sig["output_structure"]["children"][1]["kind"] = "list"

    bad = write_archive(tmp_path / "bad.xjit", edit_manifest(read_entries(path), plant))
    with pytest.raises(ArchiveError, match=r"does not hold its 1 guard values"):
        xjit.jit.load(bad)


# -- file objects and _extra_files (torch.jit.save/load's) --------------------------------------


def test_file_objects_and_extra_files_as_torch_has_them() -> None:
    lin = xjit.nn.Linear(3, 2)
    x = xjit.rand(4, 3)
    extra = {"notes.txt": "hello", "../../etc/x": b"\x00\x01"}
    for obj in (xjit.jit.trace(lin, (x,)), xjit.jit.script(lin)):
        buf = io.BytesIO()
        xjit.jit.save(obj, buf, _extra_files=extra)
        buf.seek(0)
        asked = {"notes.txt": "", "../../etc/x": "", "absent": ""}
        loaded = xjit.jit.load(buf, _extra_files=asked)
        np.testing.assert_allclose(loaded(x).numpy(), lin(x).numpy(), rtol=1e-6)
        # torch's behaviour, on the same dict
        tbuf = io.BytesIO()
        pt.jit.save(pt.jit.script(pt.nn.Linear(3, 2)), tbuf, _extra_files=extra)
        tbuf.seek(0)
        want = {"notes.txt": "", "../../etc/x": "", "absent": ""}
        pt.jit.load(tbuf, _extra_files=want)
        assert asked == want == {"notes.txt": b"hello", "../../etc/x": b"\x00\x01", "absent": b""}
        buf.seek(0)
        names = read_entries(buf)  # type: ignore[arg-type]
        assert "extra/notes%2Etxt" in names and "extra/%2E%2E%2F%2E%2E%2Fetc%2Fx" in names


def test_extra_file_entries_must_be_listed(tmp_path: Path) -> None:
    lin = xjit.nn.Linear(3, 2)
    path = tmp_path / "m.xjit"
    xjit.jit.save(xjit.jit.trace(lin, (xjit.rand(1, 3),)), path, _extra_files={"a": "1"})
    entries = read_entries(path)

    def unlist(man: dict[str, Any]) -> None:
        man["extra_files"] = {}

    bad = write_archive(tmp_path / "bad.xjit", edit_manifest(entries, unlist))
    with pytest.raises(ArchiveError, match=r"'extra_files' and the extra entries disagree"):
        xjit.jit.load(bad)

    def misname(man: dict[str, Any]) -> None:
        man["extra_files"] = {"b": "extra/a"}

    bad = write_archive(tmp_path / "bad2.xjit", edit_manifest(entries, misname))
    with pytest.raises(ArchiveError, match=r"malformed 'extra_files'"):
        xjit.jit.load(bad)


def test_module_save_methods_take_extra_files(tmp_path: Path) -> None:
    lin = xjit.nn.Linear(3, 2)
    for i, obj in enumerate((xjit.jit.trace(lin, (xjit.rand(1, 3),)), xjit.jit.script(lin))):
        path = tmp_path / f"m{i}.xjit"
        obj.save(path, _extra_files={"k": b"v"})
        got = {"k": ""}
        loaded = xjit.jit.load(path, _extra_files=got)
        assert got == {"k": b"v"}
        loaded.save(tmp_path / f"again{i}.xjit")  # without them
        assert xjit.jit.load(tmp_path / f"again{i}.xjit", _extra_files=got) is not None
        assert got == {"k": b""}


class _ZeroDimScale(xjit.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("s", xjit.tensor(2.0))

    def forward(self, x):
        return x * (self.s * 3.0)


def test_zero_dim_tensors_round_trip_and_freeze(tmp_path: Path) -> None:
    """A 0-d tensor (BatchNorm's num_batches_tracked, a scalar buffer) saves 0-d: the writer used
    np.ascontiguousarray, which makes it 1-d, and every load refused the archive; freeze folded
    `s * 3.0` into a 1-d literal the same way."""
    pt.manual_seed(0)
    t = pt.nn.BatchNorm2d(3).eval()
    with pt.no_grad():
        t.running_mean.normal_()
    bn = xjit.nn.BatchNorm2d(3).eval()
    bn.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    xjit.jit.trace(bn, (xjit.from_numpy(a),)).save(tmp_path / "bn.xjit")
    loaded = xjit.jit.load(tmp_path / "bn.xjit")
    assert loaded.num_batches_tracked.shape == ()
    with pt.no_grad():
        want = t(pt.from_numpy(a)).numpy()
    np.testing.assert_allclose(loaded(xjit.from_numpy(a)).numpy(), want, rtol=1e-5, atol=1e-6)
    frozen = xjit.jit.freeze(xjit.jit.script(_ZeroDimScale().eval()))
    assert "tensor<f32>" in str(frozen.graph)  # the folded 6.0 is a 0-d literal
    np.testing.assert_array_equal(frozen(xjit.ones(2, 2)).numpy(), np.full((2, 2), 6.0, np.float32))


class _CausalSoftmax(xjit.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.src_mask = None  # word_language_model's cached mask: a constant in the trace

    def forward(self, x):
        if self.src_mask is None:
            mask = xjit.triu(xjit.ones(3, 3)) == 0
            self.src_mask = xjit.zeros(3, 3).masked_fill(mask, float("-inf"))
        return (x.unsqueeze(1) + self.src_mask).softmax(-1)


def test_infinite_literals_survive_the_archive(tmp_path: Path) -> None:
    """xDSL prints an inf/nan element of a dense literal as its bit pattern (0xFF800000) and its
    parser read that back as the number 4286578688.0: a traced causal mask loaded from an
    archive gave silently wrong attention. The reader now takes hex as bits, as MLIR does."""
    from xjit._irtext import parse_module_text  # (the one IR reader: archives, xjit-opt)
    from xjit.dialects import make_context

    x = xjit.from_numpy(np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32))
    xt = pt.from_numpy(x.numpy())
    mask = pt.triu(pt.ones(3, 3)) == 0
    want = (xt.unsqueeze(1) + pt.zeros(3, 3).masked_fill(mask, float("-inf"))).softmax(-1)
    m = _CausalSoftmax()
    m(x)  # an eager call caches the mask: the trace holds it as a literal
    traced = xjit.jit.trace(m, (x,))
    traced.save(tmp_path / "mask.xjit")
    got = xjit.jit.load(tmp_path / "mask.xjit")(x).numpy()
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6, atol=1e-7)
    text = (
        "%a = arith.constant dense<[0xFF800000, 0x7F800000, 1.5]> : tensor<3xf32>\n"
        "%b = arith.constant dense<0xFFF0000000000000> : tensor<2xf64>\n"
        "%c = arith.constant dense<[0x7E00, 0x3C00]> : tensor<2xf16>\n"
        "%d = arith.constant dense<[0x10, 3]> : tensor<2xi32>\n"
    )
    ops = list(parse_module_text(make_context(), text, "t.mlir").ops)
    vals = [op.value.get_values() for op in ops]
    assert list(vals[0]) == [-np.inf, np.inf, 1.5] and list(vals[1]) == [-np.inf, -np.inf]
    assert np.isnan(vals[2][0]) and vals[2][1] == 1.0 and list(vals[3]) == [16, 3]
