"""The persistent compile cache (xjit/jit/compile_cache.py): hits skip the pass pipeline and give
the uncached results; corrupt, tampered, foreign or unsafe entries are never trusted."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from models import MyCell, mycell_numpy

import xjit
from xjit.jit import compile_cache
from xjit.jit.compiled import CompiledFunction


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "xjit-cache"
    monkeypatch.setenv("XJIT_CACHE", "1")
    monkeypatch.setenv("XJIT_CACHE_DIR", str(d))
    return d


@pytest.fixture
def pipeline_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts runs of the pass pipeline (a cache hit must not run it)."""
    runs: list[int] = []
    original = CompiledFunction._run_pipeline

    def counting(self: CompiledFunction) -> None:
        runs.append(1)
        original(self)

    monkeypatch.setattr(CompiledFunction, "_run_pipeline", counting)
    return runs


def _inputs() -> tuple[xjit.Tensor, xjit.Tensor]:
    rng = np.random.default_rng(7)
    return (
        xjit.tensor(rng.standard_normal((3, 4)).astype(np.float32)),
        xjit.tensor(rng.standard_normal((3, 4)).astype(np.float32)),
    )


def _trace(cell: MyCell) -> xjit.jit.ScriptModule:
    return xjit.jit.trace(cell, _inputs())


def _entries(d: Path) -> list[Path]:
    return sorted(d.glob("*.xjc"))


def test_miss_then_hit_skips_the_pipeline_and_matches(cache: Path, pipeline_runs: list[int]):
    xjit.manual_seed(0)
    cell = MyCell()
    x, h = _inputs()
    first = _trace(cell)
    assert len(pipeline_runs) == 1 and len(_entries(cache)) == 1
    second = _trace(cell)
    assert len(pipeline_runs) == 1  # the hit did not lower again
    want = mycell_numpy(cell, x.numpy(), h.numpy())
    for traced in (first, second):
        np.testing.assert_allclose(traced(x, h)[0].numpy(), want, rtol=1e-5, atol=1e-6)
    assert second.forward.source == first.forward.source
    # inspection after a hit lowers lazily, and shows what an uncached compile shows
    assert second.forward.stages() == first.forward.stages()
    assert second.forward.fusion_report() == first.forward.fusion_report()
    assert len(pipeline_runs) == 2


def test_results_identical_to_an_uncached_compile(cache: Path, monkeypatch: pytest.MonkeyPatch):
    xjit.manual_seed(1)
    cell = MyCell()
    x, h = _inputs()
    _trace(cell)  # fills the cache
    hit = _trace(cell)(x, h)[0].numpy()
    monkeypatch.setenv("XJIT_CACHE", "0")
    uncached = _trace(cell)(x, h)[0].numpy()
    np.testing.assert_array_equal(hit, uncached)


def test_parameters_are_bound_by_reference_not_cached(cache: Path, pipeline_runs: list[int]):
    xjit.manual_seed(2)
    a, b = MyCell(), MyCell()  # same shapes, different values: one cache entry
    x, h = _inputs()
    _trace(a)
    traced_b = _trace(b)
    assert len(pipeline_runs) == 1 and len(_entries(cache)) == 1
    want = mycell_numpy(b, x.numpy(), h.numpy())
    np.testing.assert_allclose(traced_b(x, h)[0].numpy(), want, rtol=1e-5, atol=1e-6)
    b.linear.weight.numpy()[...] = 0.5  # an in-place update is seen by the cached program
    want = mycell_numpy(b, x.numpy(), h.numpy())
    np.testing.assert_allclose(traced_b(x, h)[0].numpy(), want, rtol=1e-5, atol=1e-6)


def test_other_shapes_key_differently(cache: Path, pipeline_runs: list[int]):
    xjit.manual_seed(3)
    cell = MyCell()
    _trace(cell)
    xjit.jit.trace(cell, (xjit.randn(5, 4), xjit.randn(5, 4)))
    assert len(pipeline_runs) == 2 and len(_entries(cache)) == 2


def _one_entry(cache: Path, cell: MyCell) -> Path:
    _trace(cell)
    (entry,) = _entries(cache)
    return entry


def _assert_rebuilt(cache: Path, cell: MyCell, runs: list[int]) -> None:
    x, h = _inputs()
    before = len(runs)
    traced = _trace(cell)
    assert len(runs) == before + 1  # the entry was not trusted: lowered again
    want = mycell_numpy(cell, x.numpy(), h.numpy())
    np.testing.assert_allclose(traced(x, h)[0].numpy(), want, rtol=1e-5, atol=1e-6)


def test_a_corrupt_entry_is_ignored_and_rebuilt(cache: Path, pipeline_runs: list[int]):
    cell = MyCell()
    entry = _one_entry(cache, cell)
    entry.write_bytes(b"\x00not an entry")
    _assert_rebuilt(cache, cell, pipeline_runs)
    _trace(cell)  # the rebuilt entry is valid again: a hit
    assert len(pipeline_runs) == 2


def test_a_tampered_entry_fails_its_checksum(cache: Path, pipeline_runs: list[int]):
    cell = MyCell()
    entry = _one_entry(cache, cell)
    header, _, payload = entry.read_bytes().partition(b"\n")
    p = json.loads(payload)
    p["source"] = p["source"].replace("np.tanh", "np.sin")  # wrong numbers if trusted
    assert p["source"] != json.loads(payload)["source"]
    entry.write_bytes(header + b"\n" + json.dumps(p, sort_keys=True).encode())
    _assert_rebuilt(cache, cell, pipeline_runs)


def test_an_entry_under_another_key_is_ignored(cache: Path, pipeline_runs: list[int]):
    entry = _one_entry(cache, MyCell())
    assert compile_cache.load(entry.stem) is not None
    other = "f" * 64
    (cache / (other + ".xjc")).write_bytes(entry.read_bytes())  # valid, but not for this key
    os.chmod(cache / (other + ".xjc"), 0o600)
    assert compile_cache.load(other) is None


def test_a_group_writable_entry_is_not_trusted(cache: Path, pipeline_runs: list[int]):
    cell = MyCell()
    entry = _one_entry(cache, cell)
    os.chmod(entry, 0o664)
    _assert_rebuilt(cache, cell, pipeline_runs)


def test_an_entry_owned_by_someone_else_is_not_trusted(
    cache: Path, pipeline_runs: list[int], monkeypatch: pytest.MonkeyPatch
):
    cell = MyCell()
    entry = _one_entry(cache, cell)
    # The directory is ours, the entry someone else's (simulated: chown needs privileges).
    real_safe = compile_cache._safe
    ours = os.getuid()
    monkeypatch.setattr(
        compile_cache,
        "_safe",
        lambda st: real_safe(st) and not (stat.S_ISREG(st.st_mode) and st.st_uid == ours),
    )
    assert entry.exists()
    _assert_rebuilt(cache, cell, pipeline_runs)


def test_a_directory_owned_by_someone_else_is_refused(
    cache: Path, pipeline_runs: list[int], monkeypatch: pytest.MonkeyPatch
):
    cache.mkdir(mode=0o700)
    monkeypatch.setattr(compile_cache, "_uid", lambda: os.getuid() + 1)
    monkeypatch.setattr(compile_cache, "_warned", set())
    with pytest.warns(compile_cache.CacheWarning, match="owned by you"):
        _assert_rebuilt(cache, MyCell(), pipeline_runs)
    assert _entries(cache) == []


def test_a_world_writable_directory_is_refused(cache: Path, pipeline_runs: list[int]):
    cell = MyCell()
    _one_entry(cache, cell)  # a valid entry ...
    os.chmod(cache, 0o777)  # ... in a directory anyone could have written into
    compile_cache._warned.clear()
    with pytest.warns(compile_cache.CacheWarning, match="group/world-writable"):
        _assert_rebuilt(cache, cell, pipeline_runs)


def test_xjit_cache_0_turns_it_off(
    cache: Path, pipeline_runs: list[int], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("XJIT_CACHE", "0")
    cell = MyCell()
    _trace(cell)
    _trace(cell)
    assert len(pipeline_runs) == 2
    assert not cache.exists()


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("XJIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compile_cache.cache_dir() == tmp_path / "xjit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert compile_cache.cache_dir() == tmp_path / "home" / ".cache" / "xjit"
    monkeypatch.setenv("XJIT_CACHE_DIR", str(tmp_path / "mine"))
    assert compile_cache.cache_dir() == tmp_path / "mine"


def test_scripted_functions_hit_too(cache: Path, pipeline_runs: list[int]):
    def f(x: xjit.Tensor, n: int) -> xjit.Tensor:
        for _ in range(n):
            x = x * 2.0 + 1.0
        return x

    a = xjit.jit.script(f)
    b = xjit.jit.script(f)
    x = xjit.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    want = x.numpy()
    for _ in range(3):
        want = want * 2.0 + 1.0
    np.testing.assert_array_equal(a(x, 3).numpy(), want)  # compiles on first call: a miss
    runs = len(pipeline_runs)
    assert runs >= 1
    np.testing.assert_array_equal(b(x, 3).numpy(), want)
    assert len(pipeline_runs) == runs  # the same function scripted again: a hit


def test_production_compiles_verify_once_the_suite_after_every_pass(
    monkeypatch: pytest.MonkeyPatch,
):
    """XJIT_VERIFY_EACH_PASS (tests/conftest.py sets it): every pass's IR is verified in tests;
    a production compile verifies once, after the pipeline."""
    from xdsl.dialects.builtin import ModuleOp

    from xjit.passes.pipelines import TORCH_TO_LOOPS_STAGES

    calls: list[int] = []
    real = ModuleOp.verify

    def counting(self: ModuleOp, *a: object, **k: object) -> None:
        calls.append(1)
        real(self, *a, **k)

    monkeypatch.setattr(ModuleOp, "verify", counting)
    counts = {}
    for each in ("1", "0"):
        monkeypatch.setenv("XJIT_VERIFY_EACH_PASS", each)
        calls.clear()
        cell = MyCell()
        x, h = _inputs()
        traced = _trace(cell)
        want = mycell_numpy(cell, x.numpy(), h.numpy())
        np.testing.assert_allclose(traced(x, h)[0].numpy(), want, rtol=1e-5, atol=1e-6)
        counts[each] = len(calls)
    n_passes = sum(len(names) for _, names in TORCH_TO_LOOPS_STAGES)
    assert counts["1"] - counts["0"] == n_passes - 1


def test_xdsl_version_in_the_key_is_the_installed_one() -> None:
    # Read from the .dist-info name (no importlib.metadata on the compile path): the oracle is
    # importlib.metadata itself.
    from importlib.metadata import version

    assert compile_cache._xdsl_version() == version("xdsl")
