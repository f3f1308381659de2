"""`.xjit` archives of scripted code (xjit/jit/archive.py, docs/archive.md): the tutorial's traced
WrapRNN holding a scripted loop, scripted modules and functions. A loaded scripted method keeps
the generic graph and specialises it per call signature as the original does; saved in one
process, loaded in another with the model's source gone; the safety, determinism and atomicity
properties of traced archives hold for these too."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import xjit as torch
from xjit.jit import ArchiveError, ArgumentError
from xjit.jit import archive as ar

# The tutorial's models (examples/intro_tutorial.py), verbatim after `import xjit as torch`.
TUTORIAL_SRC = textwrap.dedent("""
    import xjit as torch

    class MyDecisionGate(torch.nn.Module):
      def forward(self, x):
        if x.sum() > 0:
          return x
        else:
          return -x

    class MyCell(torch.nn.Module):
        def __init__(self, dg):
            super(MyCell, self).__init__()
            self.dg = dg
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x, h):
            new_h = torch.tanh(self.dg(self.linear(x)) + h)
            return new_h, new_h

    torch.manual_seed(0)
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    scripted_gate = torch.jit.script(MyDecisionGate())

    class MyRNNLoop(torch.nn.Module):
        def __init__(self):
            super(MyRNNLoop, self).__init__()
            self.cell = torch.jit.trace(MyCell(scripted_gate), (x, h))

        def forward(self, xs):
            h, y = torch.zeros(3, 4), torch.zeros(3, 4)
            for i in range(xs.size(0)):
                y, h = self.cell(xs[i], h)
            return y, h

    class WrapRNN(torch.nn.Module):
      def __init__(self):
        super(WrapRNN, self).__init__()
        self.loop = torch.jit.script(MyRNNLoop())

      def forward(self, xs):
        y, h = self.loop(xs)
        return torch.relu(y)

    def scale_add(x, bias: torch.Tensor | None = None, k: int = 2, alpha: float = 0.5):
        if bias is None:
            return x * k
        return x * k + alpha * bias
""")


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory):
    d = tmp_path_factory.mktemp("tutorial_src")
    (d / "tutorial_models.py").write_text(TUTORIAL_SRC)
    sys.path.insert(0, str(d))
    try:
        import tutorial_models as tm  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(d))
    traced = torch.jit.trace(tm.WrapRNN(), (torch.rand(10, 3, 4),))
    return tm, traced


def numpy_wrap_rnn(traced, xs):
    """The tutorial's WrapRNN in numpy (the oracle): gate, linear, tanh over time, relu."""
    w = traced.loop.cell.linear.weight.numpy()
    b = traced.loop.cell.linear.bias.numpy()
    h = np.zeros((3, 4), np.float32)
    y = h
    for x in xs.numpy():
        z = x @ w.T + b
        z = z if z.sum() > 0 else -z
        y = h = np.tanh(z + h)
    return np.maximum(y, 0), y, h


def views(m) -> str:
    """Everything a user sees of a module, as one string."""
    parts = [repr(m), m.code, m.graph]
    if hasattr(m, "loop"):
        parts += [m.loop.code, m.loop.graph, m.loop.cell.code, m.loop.cell.dg.code, repr(m.loop)]
    return "\n---\n".join(parts)


# -- round trips in process -----------------------------------------------------------------------


def test_wrap_rnn_round_trip(tutorial, tmp_path) -> None:
    _, traced = tutorial
    path = tmp_path / "wrapped_rnn.xjit"
    traced.save(path)
    loaded = torch.jit.load(path)
    assert views(loaded) == views(traced)
    assert "(loop): RecursiveScriptModule(" in repr(loaded)
    assert "(linear): RecursiveScriptModule(original_name=Linear)" in repr(loaded)
    rng = np.random.default_rng(0)
    for n in (10, 4, 1, 4):  # the scripted loop specialises per sequence length, as before saving
        xs = torch.from_numpy(rng.standard_normal((n, 3, 4), dtype=np.float32))
        relu_y, y, h = numpy_wrap_rnn(traced, xs)
        ly, lh = loaded.loop(xs)
        ty, th = traced.loop(xs)
        np.testing.assert_array_equal(ly.numpy(), ty.numpy())
        np.testing.assert_allclose(ly.numpy(), y, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(lh.numpy(), h, rtol=1e-5, atol=1e-6)
        if n == 10:
            np.testing.assert_array_equal(loaded(xs).numpy(), traced(xs).numpy())
            np.testing.assert_allclose(loaded(xs).numpy(), relu_y, rtol=1e-5, atol=1e-6)
    assert len(loaded.loop.__dict__["_variants"]) == 3  # one compiled variant per signature
    # parameters are shared by every method that reads them, by reference
    w = loaded.loop.cell.linear.weight
    assert isinstance(w, torch.nn.Parameter)
    assert loaded.state_dict().keys() == traced.state_dict().keys()
    loaded.load_state_dict({k: v.numpy() * 0 for k, v in loaded.state_dict().items()})
    xs = torch.rand(10, 3, 4)
    assert not loaded(xs).numpy().any() and not loaded.loop(torch.rand(5, 3, 4))[0].numpy().any()


def test_scripted_module_round_trip(tutorial, tmp_path) -> None:
    tm, _ = tutorial
    cell = torch.jit.script(tm.MyCell(tm.scripted_gate))
    cell.save(tmp_path / "cell.xjit")  # ScriptModule.save, like TracedModule.save
    loaded = torch.jit.load(tmp_path / "cell.xjit")
    assert (
        repr(loaded)
        == repr(cell)
        == textwrap.dedent("""\
        RecursiveScriptModule(
          original_name=MyCell
          (dg): RecursiveScriptModule(original_name=MyDecisionGate)
          (linear): RecursiveScriptModule(original_name=Linear)
        )""")
    )
    assert loaded.code == cell.code and loaded.graph == cell.graph
    assert loaded.dg.code == tm.scripted_gate.code
    h = torch.rand(3, 4)
    for sign in (1.0, -1.0):  # both branches, decided at run time
        x = torch.rand(3, 4) * sign
        a, b = loaded(x, h)
        assert a is b
        np.testing.assert_array_equal(a.numpy(), cell(x, h)[0].numpy())
        np.testing.assert_array_equal(loaded.dg(x).numpy(), np.abs(x.numpy()))
    np.testing.assert_allclose(
        loaded.run_reference(x, h)[0].numpy(), cell(x, h)[0].numpy(), rtol=1e-6
    )
    # a signature the module was never called with before saving
    np.testing.assert_array_equal(loaded(torch.rand(7, 4), torch.rand(7, 4))[0].shape, (7, 4))


def test_scripted_function_with_optional_and_scalar_arguments(tutorial, tmp_path) -> None:
    tm, _ = tutorial
    f = torch.jit.script(tm.scale_add)
    torch.jit.save(f, tmp_path / "f.xjit")
    g = torch.jit.load(tmp_path / "f.xjit")
    assert repr(g) == "<xjit.jit.ScriptFunction scale_add>"
    assert g.code == f.code and g.graph == f.graph
    assert g.defaults == {"bias": None, "k": 2, "alpha": 0.5}
    x, b = torch.randn(2, 3), torch.randn(2, 3)
    for args, kwargs in [
        ((x,), {}),
        ((x, b), {}),
        ((x, b, 3), {}),
        ((x,), {"k": 5}),
        ((x, b), {"alpha": 2.0}),
        ((torch.randn(4, 1), None, 1), {}),
    ]:
        np.testing.assert_array_equal(g(*args, **kwargs).numpy(), f(*args, **kwargs).numpy())
        np.testing.assert_allclose(
            g(*args, **kwargs).numpy(), tm.scale_add(*args, **kwargs).numpy(), rtol=1e-6
        )
    with pytest.raises(ArgumentError, match="missing argument 'x'"):
        g()
    with pytest.raises(ArgumentError, match="'k'"):
        g(x, b, torch.rand(2))  # a tensor where an int goes


def test_traced_function_round_trip(tmp_path) -> None:
    def f(a, b):
        return torch.relu(a @ b) + 1

    a, b = torch.rand(2, 3), torch.rand(3, 4)
    traced = torch.jit.trace(f, (a, b))
    torch.jit.save(traced, tmp_path / "tf.xjit")
    loaded = torch.jit.load(tmp_path / "tf.xjit")
    assert loaded.code == traced.code
    np.testing.assert_array_equal(loaded(a, b).numpy(), traced(a, b).numpy())


# -- a save in one process, a load in another without the source --------------------------------

SAVE = textwrap.dedent("""
    import sys
    import numpy as np
    import xjit as torch
    import tutorial_models as tm

    d = sys.argv[1]
    torch.manual_seed(1)
    traced = torch.jit.trace(tm.WrapRNN(), (torch.rand(10, 3, 4),))
    traced.save(d + "/wrapped_rnn.xjit")
    torch.jit.save(torch.jit.script(tm.scale_add), d + "/f.xjit")
    out = {}
    for n in (10, 4):
        xs = torch.rand(n, 3, 4)
        out[f"xs{n}"] = xs.numpy()
        out[f"loop{n}"] = traced.loop(xs)[0].numpy()
        if n == 10:
            out["wrap"] = traced(xs).numpy()
    x, b = torch.rand(2, 3), torch.rand(2, 3)
    out.update(x=x.numpy(), b=b.numpy(), f1=tm.scale_add(x).numpy(), f2=tm.scale_add(x, b, 3).numpy())
    np.savez(d + "/expected.npz", **out)
    views = [repr(traced), traced.code, traced.graph, traced.loop.code, traced.loop.graph,
             repr(traced.loop)]
    open(d + "/views.txt", "w").write("\\n---\\n".join(views))
""")

LOAD = textwrap.dedent("""
    import sys
    import numpy as np
    import xjit as torch
    try:
        import tutorial_models  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("the model source must not be importable here")
    d = sys.argv[1]
    m = torch.jit.load(d + "/wrapped_rnn.xjit")
    e = np.load(d + "/expected.npz")
    T = torch.from_numpy
    np.testing.assert_array_equal(m(T(e["xs10"])).numpy(), e["wrap"])
    for n in (10, 4):
        np.testing.assert_array_equal(m.loop(T(e[f"xs{n}"]))[0].numpy(), e[f"loop{n}"])
    views = [repr(m), m.code, m.graph, m.loop.code, m.loop.graph, repr(m.loop)]
    assert "\\n---\\n".join(views) == open(d + "/views.txt").read()
    f = torch.jit.load(d + "/f.xjit")
    np.testing.assert_array_equal(f(T(e["x"])).numpy(), e["f1"])
    np.testing.assert_array_equal(f(T(e["x"]), T(e["b"]), 3).numpy(), e["f2"])
    assert "scipy" not in sys.modules
    print(m)
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
        timeout=300,
    )


def test_wrap_rnn_saved_in_one_process_loaded_in_another_without_the_source(tmp_path) -> None:
    src, out, elsewhere = tmp_path / "src", tmp_path / "out", tmp_path / "elsewhere"
    for d in (src, out, elsewhere):
        d.mkdir()
    (src / "tutorial_models.py").write_text(TUTORIAL_SRC)
    saved = _python(SAVE, str(out), cwd=src)
    assert saved.returncode == 0, saved.stderr
    (src / "tutorial_models.py").unlink()
    loaded = _python(LOAD, str(out), cwd=elsewhere)
    assert loaded.returncode == 0, loaded.stderr + loaded.stdout
    assert "LOADED OK" in loaded.stdout
    assert "original_name=MyRNNLoop" in loaded.stdout


# -- determinism, atomicity --------------------------------------------------------------------


def test_deterministic_and_loaded_saves_identically(tutorial, tmp_path) -> None:
    tm, traced = tutorial
    traced.save(tmp_path / "a.xjit")
    traced.save(tmp_path / "b.xjit")
    a = (tmp_path / "a.xjit").read_bytes()
    assert a == (tmp_path / "b.xjit").read_bytes()
    loaded = torch.jit.load(tmp_path / "a.xjit")
    loaded.loop(torch.rand(3, 3, 4))  # compiled variants are not part of the archive
    loaded.save(tmp_path / "c.xjit")
    assert (tmp_path / "c.xjit").read_bytes() == a
    f = torch.jit.script(tm.scale_add)
    torch.jit.save(f, tmp_path / "f1.xjit")
    torch.jit.load(tmp_path / "f1.xjit").save(tmp_path / "f2.xjit")
    assert (tmp_path / "f1.xjit").read_bytes() == (tmp_path / "f2.xjit").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xjit") as z:
        man = json.loads(z.read("manifest.json"))
    assert man["methods"]["loop.forward"]["kind"] == "script"
    assert man["methods"]["loop.forward"]["tensors"] == {
        "cell.linear.bias": "loop.cell.linear.bias",
        "cell.linear.weight": "loop.cell.linear.weight",
    }
    assert sorted(man["tensors"]) == ["loop.cell.linear.bias", "loop.cell.linear.weight"]


def test_failing_save_of_a_scripted_module_leaves_nothing(tutorial, tmp_path, monkeypatch) -> None:
    _, traced = tutorial
    path = tmp_path / "m.xjit"
    traced.save(path)
    before = path.read_bytes()
    real = zipfile.ZipFile.writestr
    calls = {"n": 0}

    def writestr(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(OSError):
        traced.loop.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.xjit"]


# -- hostile and damaged archives ----------------------------------------------------------------


def read_entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_archive(path: Path, entries: dict[str, bytes]) -> Path:
    """Entries as a zip, with the manifest's checksums recomputed (only the damage remains)."""
    import hashlib

    man = json.loads(entries["manifest.json"])
    man["entries"] = {
        n: {"sha256": hashlib.sha256(b).hexdigest(), "size": len(b)}
        for n, b in entries.items()
        if n != "manifest.json"
    }
    with zipfile.ZipFile(path, "w") as z:
        for n, b in {**entries, "manifest.json": json.dumps(man).encode()}.items():
            z.writestr(n, b)
    return path


def edit(entries: dict[str, bytes], ir=None, manifest=None, hierarchy=None) -> dict[str, bytes]:
    from xdsl.parser import Parser

    from xjit.dialects import make_context

    out = dict(entries)
    if ir is not None or hierarchy is not None:
        outer = Parser(make_context(), entries["model.mlir"].decode()).parse_module()
        if ir is not None:
            ir(outer)
        if hierarchy is not None:
            h = ar._from_attr(outer.attributes[ar.HIERARCHY_ATTR])
            hierarchy(h)
            outer.attributes[ar.HIERARCHY_ATTR] = ar._to_attr(h)
        out["model.mlir"] = ar._print_ir(outer).encode()
    if manifest is not None:
        man = json.loads(out["manifest.json"])
        manifest(man)
        out["manifest.json"] = json.dumps(man).encode()
    return out


def test_hostile_slot_and_tensor_names_in_scripted_methods_reach_nothing(
    tutorial, tmp_path
) -> None:
    from xdsl.dialects.builtin import StringAttr, SymbolRefAttr

    from xjit.dialects.torch import GlobalSlotGetOp, GlobalSlotOp

    _, traced = tutorial
    good = tmp_path / "good.xjit"
    traced.save(good)
    canary = tmp_path / "PWNED"
    evil = f"w'); open({str(canary)!r}, 'w'); ('"
    evil_key = f"__import__('os').system('touch {canary}')"

    def ir(outer):  # every slot bound to the weight, in every method, gets the hostile name
        for op in outer.walk():
            if isinstance(op, GlobalSlotOp) and op.sym_name.data.endswith("linear.weight"):
                op.properties["sym_name"] = StringAttr(evil + op.sym_name.data)
            if isinstance(op, GlobalSlotGetOp) and op.slot.root_reference.data.endswith(
                "linear.weight"
            ):
                op.properties["slot"] = SymbolRefAttr(evil + op.slot.root_reference.data)

    def hierarchy(h):
        lin = h["children"][0][1]["children"][0][1]["children"][1][1]
        lin["parameters"] = [
            [n, evil_key if k == "loop.cell.linear.weight" else k] for n, k in lin["parameters"]
        ]

    def manifest(man):
        man["tensors"][evil_key] = man["tensors"].pop("loop.cell.linear.weight")
        man["tensors"][evil_key]["entry"] = ar.entry_name(evil_key)
        for sig in man["methods"].values():
            sig["tensors"] = {
                evil + s if s.endswith("linear.weight") else s: evil_key
                if k == "loop.cell.linear.weight"
                else k
                for s, k in sig["tensors"].items()
            }

    entries = edit(read_entries(good), ir=ir, hierarchy=hierarchy, manifest=manifest)
    entries[ar.entry_name(evil_key)] = entries.pop("tensors/loop.cell.linear.weight.npy")
    loaded = torch.jit.load(write_archive(tmp_path / "hostile.xjit", entries))
    xs = torch.rand(10, 3, 4)
    np.testing.assert_array_equal(loaded(xs).numpy(), traced(xs).numpy())
    xs = torch.rand(6, 3, 4)
    np.testing.assert_array_equal(loaded.loop(xs)[0].numpy(), traced.loop(xs)[0].numpy())
    assert not canary.exists()
    for cf in [loaded.forward, *loaded.loop.variants]:
        tree = ast.parse(cf.source)
        calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        assert not {"open", "__import__", "os.system", "exec", "eval"} & calls


def damaged(tutorial, tmp_path, **edits) -> Path:
    _, traced = tutorial
    good = tmp_path / "good.xjit"
    traced.save(good)
    return write_archive(tmp_path / "bad.xjit", edit(read_entries(good), **edits))


def assert_archive_error(path: Path, *fragments: str) -> None:
    with pytest.raises(ArchiveError) as info:
        torch.jit.load(path)
    for f in fragments:
        assert f in str(info.value), str(info.value)


def test_scripted_method_records_that_disagree_are_refused(tutorial, tmp_path) -> None:
    def kind(man):
        del man["methods"]["loop.forward"]["kind"]  # the hierarchy says scripted

    assert_archive_error(damaged(tutorial, tmp_path, manifest=kind), "kind of method loop.forward")

    def default(man):
        man["methods"]["loop.forward"]["defaults"] = {"xs": {"type": "float", "value": "oops"}}

    assert_archive_error(damaged(tutorial, tmp_path, manifest=default), "malformed default")

    def unknown_default(man):
        man["methods"]["loop.forward"]["defaults"] = {"nope": {"type": "none"}}

    assert_archive_error(damaged(tutorial, tmp_path, manifest=unknown_default), "defaults")

    def inputs(man):
        man["methods"]["loop.forward"]["inputs"][0]["shape"] = [10, 3, 4]

    assert_archive_error(
        damaged(tutorial, tmp_path, manifest=inputs), "inputs of method loop.forward"
    )

    def slot(man):
        man["methods"]["loop.forward"]["tensors"]["cell.linear.bias"] = "loop.cell.linear.weight"

    assert_archive_error(
        damaged(tutorial, tmp_path, manifest=slot),
        "tensor 'loop.cell.linear.weight' is float32 [4, 4]",
        "@cell.linear.bias",
    )

    def node_kind(h):
        h["children"][0][1]["kind"] = "module"  # the manifest says scripted

    assert_archive_error(
        damaged(tutorial, tmp_path, hierarchy=node_kind), "kind of method loop.forward"
    )

    def variant(man):
        man["methods"]["loop.forward"]["variants"] = [
            {"ir": "loop.forward#1", "kinds": {"xs": "!torch.int"}}
        ]

    assert_archive_error(damaged(tutorial, tmp_path, manifest=variant), "disagree")


def test_recursive_scripted_ir_is_refused_at_load(tutorial, tmp_path) -> None:
    from xdsl.dialects import func

    def ir(outer):  # @loop.cell.dg.forward, inside the scripted loop's graph, calls itself
        loop = next(op for op in outer.ops if op.sym_name.data == "loop.forward")
        dg = next(
            op
            for op in loop.ops
            if isinstance(op, func.FuncOp) and op.sym_name.data == "cell.dg.forward"
        )
        neg = next(op for op in dg.walk() if op.name == "torch.aten.neg")
        call = func.CallOp("cell.dg.forward", [neg.operands[0]], [neg.results[0].type])
        neg.parent.insert_op_before(call, neg)
        neg.results[0].replace_all_uses_with(call.results[0])
        neg.parent.erase_op(neg)

    assert_archive_error(damaged(tutorial, tmp_path, ir=ir), "loop.forward", "recursive")


def test_version_1_archives_still_load(tmp_path) -> None:
    class Cell(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x):
            return torch.tanh(self.linear(x))

    torch.manual_seed(0)
    traced = torch.jit.trace(Cell(), torch.rand(3, 4))
    traced.save(tmp_path / "v2.xjit")

    def hierarchy(h):
        def drop(node):
            node.pop("kind")
            for _, c in node["children"]:
                drop(c)

        drop(h)

    def manifest(man):
        man["format_version"] = 1
        for sig in man["methods"].values():
            sig["tensors"] = sorted(sig["tensors"])
            sig.pop("dynamic_shapes")

    v1 = write_archive(
        tmp_path / "v1.xjit",
        edit(read_entries(tmp_path / "v2.xjit"), hierarchy=hierarchy, manifest=manifest),
    )
    loaded = torch.jit.load(v1)
    x = torch.rand(3, 4)
    np.testing.assert_array_equal(loaded(x).numpy(), traced(x).numpy())
    assert repr(loaded) == repr(traced)


def test_script_graph_has_the_fields_of_script_result() -> None:
    # The loader builds what script_api._Scripted specialises without importing the frontend.
    import dataclasses

    from xjit.frontends.script import ScriptResult

    assert [f.name for f in dataclasses.fields(ar.ScriptGraph)] == [
        f.name for f in dataclasses.fields(ScriptResult)
    ]


# -- xjit-run on scripted archives ---------------------------------------------------------------


def test_xjit_run_scripted_submodule_method(tutorial, tmp_path) -> None:
    _, traced = tutorial
    traced.save(tmp_path / "w.xjit")
    xs = torch.rand(6, 3, 4)
    np.save(tmp_path / "xs.npy", xs.numpy())
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "xjit.run",
            str(tmp_path / "w.xjit"),
            "--method",
            "loop.forward",
            "--input",
            str(tmp_path / "xs.npy"),
            "--output",
            str(tmp_path / "out.npz"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    out = np.load(tmp_path / "out.npz")
    y, h = traced.loop(xs)
    np.testing.assert_array_equal(out["output_0"], y.numpy())
    np.testing.assert_array_equal(out["output_1"], h.numpy())
    np.save(tmp_path / "bad.npy", np.zeros((6, 3, 4), np.float64))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "xjit.run",
            str(tmp_path / "w.xjit"),
            "--method",
            "loop.forward",
            "--input",
            str(tmp_path / "bad.npy"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 1 and r.stderr.startswith("xjit-run: error:"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_a_module_scripted_per_call_signature_is_refused_cleanly(tmp_path: Path) -> None:
    """nn.LSTM's scripted forward compiles per input ranks and sizes, so there is no generic
    graph to save: a clear ArchiveError (it was an AttributeError), and no file is left."""
    scripted = torch.jit.script(torch.nn.LSTM(4, 6))
    scripted(torch.ones(3, 2, 4))  # a compiled call does not give it a generic graph
    path = tmp_path / "lstm.xjit"
    with pytest.raises(ArchiveError, match="no generic graph .* trace it"):
        torch.jit.save(scripted, str(path))
    assert not path.exists()


def _positives(x: torch.Tensor) -> torch.Tensor:
    return x[x > 0] * 2  # a mask index: compiled per argument rank


def test_a_masked_scripted_function_refusal_names_the_op_and_line(tmp_path: Path) -> None:
    """A scripted x[mask] has no generic graph (the mask's rank decides the result's): save
    refuses and says which expression needs the argument types, and where."""
    f = torch.jit.script(_positives)
    np.testing.assert_array_equal(f(torch.tensor([1.0, -2.0, 3.0])).numpy(), [2.0, 6.0])
    line = _positives.__code__.co_firstlineno + 1
    path = tmp_path / "masked.xjit"
    with pytest.raises(ArchiveError) as e:
        torch.jit.save(f, str(path))
    msg = str(e.value)
    assert "no generic graph" in msg and "trace it" in msg
    assert f"test_archive_script.py:{line}:" in msg and "boolean mask index" in msg
    assert not path.exists()


def test_the_refusal_names_the_first_need_and_its_line(tmp_path: Path) -> None:
    """An in-place ReLU in a Sequential (torchvision's and DCGAN's `nn.ReLU(True)`) compiles per
    argument dtypes: the refusal says so, at the line that needs them."""
    m = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(inplace=True))
    with pytest.raises(ArchiveError, match=r"why: .*layers.py:\d+:\d+: error: an in-place update"):
        torch.jit.script(m).save(tmp_path / "seq.xjit")


class _WithExport(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1

    @torch.jit.export
    def double(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2


def test_exported_methods_are_refused_at_save_not_lost(tmp_path: Path) -> None:
    """The archive keeps a scripted module's forward only: saving one with @export methods
    fails by name and writes nothing (a loaded `m.double()` would otherwise be nn.Module's)."""
    s = torch.jit.script(_WithExport())
    np.testing.assert_array_equal(s.double(torch.ones(2)).numpy(), [2.0, 2.0])
    path = tmp_path / "m.xjit"
    with pytest.raises(ArchiveError, match=r"methods \['double'\]"):
        torch.jit.save(s, str(path))
    assert not path.exists()
