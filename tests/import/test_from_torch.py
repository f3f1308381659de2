"""`xjit.from_torch`: real PyTorch models imported through torch.export, compared with PyTorch
itself on two input sets each, then saved and run in a subprocess where `import torch` fails."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from import_models import (
    MHA,
    MLP,
    AvgPoolNet,
    BatchNormNet,
    BuffersAndConstants,
    CausalSDPA,
    ClampAny,
    ConvAutoencoder,
    CoreOps,
    EmbedLinear,
    GPTBlock,
    GRUNet,
    LeNet,
    LSTMTagger,
    Structured,
)

import xjit
from xjit.frontends.torch_export import TorchImportError

MODELS_FILE = str(Path(__file__).with_name("import_models.py"))

# Loads an archive with torch made unimportable, runs it on each saved input set (called with
# the model's own nested input structure, rebuilt from `tree`), and writes the flat outputs
# and their structure.
_TORCH_FREE_RUNNER = r"""
import json, sys
sys.modules["torch"] = None  # `import torch` now raises ImportError
import numpy as np
import xjit

def build(tree, data):
    if isinstance(tree, int):
        return xjit.from_numpy(data[f"a{tree}"])
    kind, items = tree
    if kind == "dict":
        return {k: build(v, data) for k, v in items}
    seq = [build(v, data) for v in items]
    return tuple(seq) if kind == "tuple" else seq

def flat(v, out):
    if v is None:
        return "None"
    if isinstance(v, (tuple, list)):
        inner = ", ".join(flat(x, out) for x in v)
        return f"({inner})" if isinstance(v, tuple) else f"[{inner}]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {flat(x, out)}" for k, x in v.items()) + "}"
    out.append(v.numpy())
    return "T"

archive, n_sets, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
m = xjit.jit.load(archive)
structures = []
for s in range(n_sets):
    data = np.load(f"{prefix}{s}.npz")
    with open(f"{prefix}{s}.tree.json") as f:
        args = build(json.load(f), data)
    outs = []
    structures.append(flat(m(*args), outs))
    np.savez(f"{prefix}{s}.out.npz", *outs)
assert sys.modules["torch"] is None
print(json.dumps(structures))
"""


def _flat_torch(v: Any, out: list[np.ndarray]) -> str:
    """The structure of a (nested) result as text, its tensors appended to `out` as numpy."""
    if v is None:
        return "None"
    if isinstance(v, (tuple, list)):
        inner = ", ".join(_flat_torch(x, out) for x in v)
        return f"({inner})" if isinstance(v, tuple) else f"[{inner}]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_flat_torch(x, out)}" for k, x in v.items()) + "}"
    out.append(v.detach().numpy() if isinstance(v, torch.Tensor) else v.numpy())
    return "T"


def _assert_same(xjit_out: Any, torch_out: Any, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    got: list[np.ndarray] = []
    want: list[np.ndarray] = []
    assert _flat_torch(xjit_out, got) == _flat_torch(torch_out, want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def _flat_inputs(args: Any) -> list[np.ndarray]:
    leaves, _ = torch.utils._pytree.tree_flatten(args)
    return [t.numpy() for t in leaves]


def _tree(v: Any, counter: list[int]) -> Any:
    """The nesting of `v` as JSON, leaves numbered in pytree order (what _flat_inputs saves)."""
    if isinstance(v, dict):
        return ["dict", [[k, _tree(x, counter)] for k, x in v.items()]]
    if isinstance(v, (tuple, list)):
        return ["tuple" if isinstance(v, tuple) else "list", [_tree(x, counter) for x in v]]
    counter[0] += 1
    return counter[0] - 1


def _check_model(
    model: torch.nn.Module,
    input_sets: list[tuple[Any, ...]],
    tmp_path: Path,
    dynamic_shapes: Any = None,
    tol: float = 1e-5,
) -> xjit.jit.imported.ImportedModule:
    """Import `model` on the first input set; each set must give PyTorch's results in process
    (the inputs as xjit Tensors and as numpy arrays) and from the saved archive, torch-free."""
    model = model.eval()
    m = xjit.from_torch(model, input_sets[0], dynamic_shapes=dynamic_shapes)
    expected = []
    with torch.no_grad():
        for args in input_sets:
            ref = model(*args)
            expected.append(ref)
            as_xjit = torch.utils._pytree.tree_map(lambda t: xjit.from_numpy(t.numpy()), args)
            _assert_same(m(*as_xjit), ref, tol, tol)
            as_numpy = torch.utils._pytree.tree_map(lambda t: t.numpy(), args)
            _assert_same(m(*as_numpy), ref, tol, tol)
    archive = tmp_path / "model.xjit"
    m.save(archive)
    prefix = str(tmp_path / "set")
    for s, args in enumerate(input_sets):
        np.savez(f"{prefix}{s}.npz", **{f"a{i}": a for i, a in enumerate(_flat_inputs(args))})
        Path(f"{prefix}{s}.tree.json").write_text(json.dumps(_tree(args, [0])))
    proc = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE_RUNNER, str(archive), str(len(input_sets)), prefix],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    structures = json.loads(proc.stdout)
    for s, ref in enumerate(expected):
        want: list[np.ndarray] = []
        assert structures[s] == _flat_torch(ref, want)
        got = np.load(f"{prefix}{s}.out.npz")
        assert len(got.files) == len(want)
        for i, w in enumerate(want):
            g = got[f"arr_{i}"]
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol)
    return m


def test_mlp(tmp_path: Path) -> None:
    torch.manual_seed(0)
    m = _check_model(MLP(), [(torch.randn(3, 8),), (torch.randn(3, 8) * 4,)], tmp_path)
    assert "torch.aten.addmm" in m.graph and "torch.global_slot" in m.graph
    assert str(m) == "MLP(\n  (fc1): Linear()\n  (fc2): Linear()\n)"


def test_gpt_block(tmp_path: Path) -> None:
    torch.manual_seed(1)
    m = _check_model(GPTBlock(), [(torch.randn(2, 5, 16),), (torch.randn(2, 5, 16),)], tmp_path)
    for op in ("layer_norm", "softmax.int", "gelu", "bmm", "where.self"):
        assert f"torch.aten.{op} " in m.graph, op


def test_embedding_linear_int64_input(tmp_path: Path) -> None:
    torch.manual_seed(2)
    idx = [(torch.randint(0, 20, (3, 6)),), (torch.randint(0, 20, (3, 6)),)]
    m = _check_model(EmbedLinear(), idx, tmp_path)
    assert "!torch.vtensor<[3,6],si64>" in m.graph


def test_nested_inputs_and_none_output(tmp_path: Path) -> None:
    torch.manual_seed(3)
    sets = [
        (torch.randn(2, 4), {"h": torch.randn(2, 4)}),
        (torch.randn(2, 4), {"h": torch.randn(2, 4)}),
    ]
    m = _check_model(Structured(), sets, tmp_path)
    with pytest.raises(xjit.jit.ArgumentError, match=r"inputs\[0\]\[1\] must be a dict"):
        m(sets[0][0].numpy(), sets[0][1]["h"].numpy())


def test_dynamic_batch_dim(tmp_path: Path) -> None:
    torch.manual_seed(4)
    batch = torch.export.Dim("batch", min=1, max=64)
    sets = [(torch.randn(3, 8),), (torch.randn(7, 8),)]
    m = _check_model(MLP(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "func.func @forward(%x: !torch.vtensor<[?,8],f32>) -> !torch.vtensor<[?,4],f32>" in (
        m.graph
    )


def test_symbolic_dims_are_guarded_as_torch_export_does() -> None:
    class Add(torch.nn.Module):
        def forward(self, x, y):
            return x + y

    b = torch.export.Dim("b", min=2, max=10)
    m = xjit.from_torch(Add(), (torch.randn(3, 4), torch.randn(3, 4)), ({0: b}, {0: b}))
    x, y = np.ones((5, 4), np.float32), np.full((5, 4), 2, np.float32)
    np.testing.assert_array_equal(m(x, y).numpy(), x + y)
    # numpy would broadcast a batch of 1 silently; torch.export's guard refuses it
    with pytest.raises(xjit.jit.ArgumentError, match=r"input 'y' dim 0 is 1, expected 5: .*'x'"):
        m(x, y[:1])
    with pytest.raises(xjit.jit.ArgumentError, match=r"dim 0 is 11, expected a size in \[2, 10\]"):
        m(np.ones((11, 4), np.float32), np.ones((11, 4), np.float32))


def test_dynamic_batch_through_a_reshape(tmp_path: Path) -> None:
    """A reshape that splits a static dim next to a `?` batch (x.reshape(B, 2, -1))."""
    torch.manual_seed(4)
    batch = torch.export.Dim("batch", min=2, max=64)

    class Pairs(torch.nn.Module):
        def forward(self, x):
            return x.reshape(x.size(0), 2, -1).sum(-1)

    sets = [(torch.randn(4, 8),), (torch.randn(9, 8),)]
    m = _check_model(Pairs(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "-> !torch.vtensor<[?,2,4],f32>" in m.graph


def test_gpt_block_with_a_dynamic_batch(tmp_path: Path) -> None:
    """view(B, T, H, hd), view(B, T, C) and nn.Linear on 3-d inputs (views merging the batch
    into the rows and splitting it back) with B a symbolic dim."""
    torch.manual_seed(11)
    batch = torch.export.Dim("batch", min=1, max=32)
    sets = [(torch.randn(3, 5, 16),), (torch.randn(7, 5, 16),)]
    m = _check_model(GPTBlock(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "func.func @forward(%x: !torch.vtensor<[?,5,16],f32>)" in m.graph
    assert "!torch.vtensor<[?,5,2,8],f32>" in m.graph


def test_lenet_with_a_dynamic_batch(tmp_path: Path) -> None:
    """aten.convolution decomposes (im2col) with a dynamic batch: its reshapes take it as -1."""
    torch.manual_seed(12)
    batch = torch.export.Dim("batch", min=1, max=32)
    sets = [(torch.randn(3, 1, 16, 16),), (torch.randn(6, 1, 16, 16),)]
    m = _check_model(LeNet(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "torch.aten.convolution" in m.graph
    assert "-> !torch.vtensor<[?,10],f32>" in m.graph


def test_view_with_two_symbolic_sizes(tmp_path: Path) -> None:
    """view(B, T, 2, 2) with B and T both symbolic: the sizes are read at run time
    (aten.size.int) and checked by the lowering; nn.Linear's view merges B*T into the rows."""

    class Heads(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(8, 4)

        def forward(self, x):
            b, t, _ = x.shape
            return self.lin(x).view(b, t, 2, 2)

    torch.manual_seed(13)
    b = torch.export.Dim("b", min=1, max=16)
    t = torch.export.Dim("t", min=1, max=16)
    sets = [(torch.randn(2, 3, 8),), (torch.randn(5, 7, 8),)]
    m = _check_model(Heads(), sets, tmp_path, dynamic_shapes=({0: b, 1: t},))
    assert "torch.aten.size.int" in m.graph and "-> !torch.vtensor<[?,?,2,2],f32>" in m.graph


def test_dynamic_batch_with_computed_sizes(tmp_path: Path) -> None:
    """A size that is a symbolic dim of the tensor itself (`x.size(0)`) stays that dim."""
    torch.manual_seed(5)
    batch = torch.export.Dim("batch", min=2, max=64)
    sets = [(torch.randn(4, 8),), (torch.randn(9, 8),)]

    class Expand(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mlp = MLP()

        def forward(self, x):
            return self.mlp(x) * x[:, :1].expand(x.size(0), 4)

    m = _check_model(Expand(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "torch.aten.expand" in m.graph and "-> !torch.vtensor<[?,4],f32>" in m.graph


def test_lstm_tagger(tmp_path: Path) -> None:
    torch.manual_seed(6)
    sets = [(torch.randint(0, 10, (2, 5)),), (torch.randint(0, 10, (2, 5)),)]
    _check_model(LSTMTagger(), sets, tmp_path)


def test_scaled_dot_product_attention(tmp_path: Path) -> None:
    torch.manual_seed(10)
    _check_model(CausalSDPA(), [(torch.randn(2, 5, 8),), (torch.randn(2, 5, 8),)], tmp_path)


def test_multihead_attention(tmp_path: Path) -> None:
    torch.manual_seed(11)
    _check_model(MHA(), [(torch.randn(2, 3, 8),), (torch.randn(2, 3, 8),)], tmp_path)


def test_gru(tmp_path: Path) -> None:
    torch.manual_seed(12)
    _check_model(GRUNet(), [(torch.randn(2, 3, 4),), (torch.randn(2, 3, 4),)], tmp_path)


def test_clamp_and_any_with_nan(tmp_path: Path) -> None:
    torch.manual_seed(13)
    a, b = torch.randn(3, 4) * 2, torch.randn(3, 4) * 2
    a[1, 2] = float("nan")
    b[0, :] = float("nan")
    _check_model(ClampAny(), [(a,), (b,)], tmp_path)


def test_core_aten_ops(tmp_path: Path) -> None:
    torch.manual_seed(14)
    sets = [(torch.randn(3, 4), torch.randint(-5, 5, (3,))) for _ in range(2)]
    _check_model(CoreOps(), sets, tmp_path)


def test_buffers_constants_and_tied_weights(tmp_path: Path) -> None:
    torch.manual_seed(15)
    sets = [(torch.randint(0, 6, (2, 3)),), (torch.randint(0, 6, (2, 3)),)]
    m = _check_model(BuffersAndConstants(), sets, tmp_path)
    slots = [
        line.split("@")[1].split()[0] for line in m.graph.splitlines() if 'global_slot "' in line
    ]
    assert slots == ["emb.weight", "scale", "shift", "lifted_tensor_0"]


def test_adaptive_avg_pool_to_one(tmp_path: Path) -> None:
    torch.manual_seed(7)
    _check_model(AvgPoolNet(), [(torch.randn(2, 3, 4, 4),), (torch.randn(2, 3, 4, 4),)], tmp_path)


def test_float64_model_keeps_its_dtype(tmp_path: Path) -> None:
    torch.manual_seed(8)
    sets = [(torch.randn(3, 8, dtype=torch.float64),), (torch.randn(3, 8, dtype=torch.float64),)]
    m = _check_model(MLP().double(), sets, tmp_path, tol=1e-12)
    assert "f32" not in m.graph and "!torch.vtensor<[16,8],f64>" in m.graph


def test_exported_program_is_accepted() -> None:
    torch.manual_seed(9)
    model = MLP().eval()
    x = torch.randn(2, 8)
    m = xjit.from_torch(torch.export.export(model, (x,)))
    _assert_same(m(x.numpy()), model(x))
    assert m._get_name() == "MLP"


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_weights_are_refused(dtype: torch.dtype) -> None:
    with pytest.raises(TorchImportError) as e:
        xjit.from_torch(MLP().to(dtype), (torch.randn(2, 8, dtype=dtype),))
    assert str(e.value) == (
        f"parameter 'fc1.weight' has dtype {dtype}; xjit supports float32, float64, int64, "
        "int32 and bool (convert half-precision models with model.float() before importing)"
    )


def _line_of(text: str) -> int:
    lines = Path(MODELS_FILE).read_text().splitlines()
    (n,) = [i for i, line in enumerate(lines, 1) if text in line]
    return n


def test_lenet(tmp_path: Path) -> None:
    torch.manual_seed(7)
    sets = [(torch.randn(2, 1, 16, 16),), (torch.randn(2, 1, 16, 16) * 3,)]
    m = _check_model(LeNet(), sets, tmp_path)
    for op in ("convolution", "max_pool2d"):
        assert f"torch.aten.{op} " in m.graph, op


def test_conv_autoencoder_with_transposed_convolutions(tmp_path: Path) -> None:
    torch.manual_seed(14)
    sets = [(torch.randn(2, 2, 12, 8),), (torch.randn(2, 2, 12, 8) * 3,)]
    m = _check_model(ConvAutoencoder(), sets, tmp_path)
    assert m.graph.count("torch.aten.convolution ") == 5, m.graph


def test_batch_norm_in_eval(tmp_path: Path) -> None:
    torch.manual_seed(8)
    model = BatchNormNet()
    with torch.no_grad():  # non-trivial running statistics and affine parameters
        model.bn.running_mean.normal_()
        model.bn.running_var.uniform_(0.5, 2.0)
        model.bn.weight.normal_()
        model.bn.bias.normal_()
    m = _check_model(model, [(torch.randn(3, 6),), (torch.randn(3, 6) * 2,)], tmp_path)
    assert "torch.aten.batch_norm " in m.graph


def test_max_pool_indices_are_refused() -> None:
    class WithIndices(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.max_pool2d(x, 2, return_indices=True)

    with pytest.raises(
        TorchImportError,
        match=r"aten.max_pool2d_with_indices.default \(its indices output is used\) x1",
    ):
        xjit.from_torch(WithIndices(), (torch.randn(1, 1, 4, 4),))


def test_batch_norm_in_training_mode_is_refused() -> None:
    with pytest.raises(
        TorchImportError, match=r"BUFFER_MUTATION output \(bn.num_batches_tracked\)"
    ):
        xjit.from_torch(BatchNormNet().train(), (torch.randn(3, 6),))


def test_layer_norm_statistics_are_refused() -> None:
    class Stats(torch.nn.Module):
        def forward(self, x):
            return torch.ops.aten.native_layer_norm(x, [4], None, None, 1e-5)[1]

    with pytest.raises(
        TorchImportError, match=r"aten.native_layer_norm.default \(its mean/rstd outputs"
    ):
        xjit.from_torch(Stats(), (torch.randn(2, 4),))


def test_shapes_are_fixed_without_dynamic_shapes() -> None:
    """An export without dynamic_shapes is specialised to its example shapes (Python code may
    have baked sizes into constants): other shapes are refused, never recomputed."""
    m = xjit.from_torch(MLP().eval(), (torch.randn(3, 8),))
    with pytest.raises(xjit.jit.ArgumentError, match=r"has shape \[5, 8\], expected \[3, 8\]"):
        m(np.zeros((5, 8), np.float32))


def test_import_xjit_does_not_import_torch() -> None:
    code = (
        "import sys, xjit\n"
        "f = xjit.from_torch\n"
        "assert callable(f)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


class _Factories(torch.nn.Module):
    """Factories whose sizes are the run-time batch size (dynamic_shapes)."""

    def forward(self, x):
        n = x.size(0)
        z = torch.zeros(n, 3) + torch.full((n, 1), 2.5)
        i = torch.full((x.size(0), 3), 7) + torch.arange(n).unsqueeze(1)  # int64
        pos = torch.arange(x.size(0), dtype=torch.float32).unsqueeze(1) * 0.5
        return z * x + pos, i, torch.ones_like(x).new_ones(n, 2)


def test_factories_with_run_time_sizes(tmp_path: Path) -> None:
    """`aten.full`/`arange` whose size is a symbolic dim: the result is built from the tensor
    that dim is read from (`full_like` of a broadcast; arange to the Dim's max, sliced), so the
    lowering knows each dim's source (it used to fail: ListConstruct has no lowering)."""
    batch = torch.export.Dim("batch", min=2, max=64)
    sets = [(torch.randn(4, 3),), (torch.randn(9, 3),)]
    m = _check_model(_Factories(), sets, tmp_path, dynamic_shapes=({0: batch},))
    assert "torch.aten.full_like" in m.graph
    assert "!torch.vtensor<[?,3],si64>" in m.graph


def test_lstm_with_a_dynamic_batch(tmp_path: Path) -> None:
    """nn.LSTM expands its weights to the batch (`expand` to another tensor's run-time size)."""
    torch.manual_seed(15)
    batch = torch.export.Dim("batch", min=2, max=16)
    sets = [(torch.randint(0, 10, (3, 5)),), (torch.randint(0, 10, (6, 5)),)]
    _check_model(LSTMTagger(), sets, tmp_path, dynamic_shapes=({0: batch},))


def test_run_time_sizes_that_do_not_lower_are_listed() -> None:
    class Computed(torch.nn.Module):
        def forward(self, x):
            return torch.zeros(x.size(0) * 2, 3), torch.arange(0, x.size(0), 2)

    batch = torch.export.Dim("batch", min=2)  # no max: a step-2 arange has no bound to slice from
    with pytest.raises(TorchImportError) as info:
        xjit.from_torch(Computed(), (torch.randn(4, 3),), dynamic_shapes=({0: batch},))
    text = str(info.value)
    assert "aten.full.default (a size computed at run time other than a tensor's own size)" in (
        text
    ), text
    assert "aten.arange.start_step (a run-time end without a finite Dim max" in text, text
    assert f"test_from_torch.py:{_line_of_here('torch.zeros(x.size(0) * 2, 3)')}" in text, text


def _line_of_here(text: str) -> int:
    lines = Path(__file__).read_text().splitlines()
    (n,) = [i for i, line in enumerate(lines, 1) if text in line and "_line_of_here" not in line]
    return n


class _StringIOScale(torch.nn.Module):
    """TorchDynamo (strict export) cannot trace `io.StringIO` methods; non-strict export runs
    them as plain Python: the scale is a constant 3."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 2)

    def forward(self, x):
        s = io.StringIO()
        s.write("abc")
        return self.lin(x) * len(s.getvalue())


def test_strict_export_failure_falls_back_to_non_strict(tmp_path: Path) -> None:
    torch.manual_seed(11)
    model = _StringIOScale().eval()
    x = torch.randn(3, 4)
    with pytest.raises(Exception, match="Unsupported"):  # the premise: strict export refuses it
        torch.export.export(model, (x,), strict=True)
    _check_model(model, [(x,), (torch.randn(3, 4),)], tmp_path)


def test_both_exports_failing_names_both_errors() -> None:
    class DataDependent(torch.nn.Module):
        def forward(self, x):
            return x * 2 if x.sum().item() > 0 else x  # control flow on a tensor's value

    with pytest.raises(TorchImportError, match=r"torch.export failed \(strict: .*; non-strict: "):
        xjit.from_torch(DataDependent(), (torch.randn(3, 4),))
