"""`xjit.save` / `xjit.load` (torch.save / torch.load for what users save) without pickle:
round trips of tensors, state_dicts and checkpoints through paths and file objects, a model
reloaded from its saved state_dict computing what PyTorch computes, and hostile or foreign files
refused without running anything (a real torch.save file, pickles hidden in an archive)."""

from __future__ import annotations

import io
import json
import pickle
import re
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch as pt
from torch_oracle import assert_same, rand

import xjit
from xjit._serialization import LoadError


def _roundtrip(obj, where):
    xjit.save(obj, where)
    if isinstance(where, io.BytesIO):
        where.seek(0)
    return xjit.load(where)


def _equal_trees(a, b) -> None:
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _equal_trees(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _equal_trees(x, y)
    elif isinstance(a, xjit.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _checkpoint():
    model = xjit.nn.Sequential(xjit.nn.Linear(3, 4), xjit.nn.BatchNorm1d(4))
    return {
        "epoch": 3,
        "model": model.state_dict(),
        "optimizer": {"lr": 1e-3, "betas": (0.9, 0.999), "state": {0: {"step": 10}}},
        "losses": [0.5, float("nan"), float("inf"), -0.0],
        "tag": "run-α",
        "best": None,
        "flags": [True, False],
        "size": xjit.Size([2, 3]),
        "dtype": xjit.float64,
        "tensors": [
            xjit.tensor(2.5, dtype=xjit.float64),
            xjit.zeros(0, 3),
            xjit.tensor([1, -2], dtype=xjit.int32),
            xjit.tensor([[True, False]]),
            xjit.arange(6).reshape(2, 3).t(),  # a non-contiguous view
        ],
    }


@pytest.mark.parametrize("target", ["path", "str", "bytesio", "file"])
def test_checkpoint_round_trip(tmp_path: Path, target: str) -> None:
    ck = _checkpoint()
    if target == "bytesio":
        got = _roundtrip(ck, io.BytesIO())
    elif target == "file":
        with open(tmp_path / "ck.pt", "wb") as f:
            xjit.save(ck, f)
        with open(tmp_path / "ck.pt", "rb") as f:
            got = xjit.load(f, map_location="cpu", weights_only=True)
    else:
        where = tmp_path / "ck.pt"
        got = _roundtrip(ck, where if target == "path" else str(where))
    _equal_trees(ck, got)
    assert isinstance(got["model"], OrderedDict)
    assert isinstance(got["size"], xjit.Size) and repr(got["size"]) == "xjit.Size([2, 3])"


def test_tensor_parameter_and_identity() -> None:
    t = xjit.randn(3, 2)
    got = _roundtrip(t, io.BytesIO())
    assert type(got) is xjit.Tensor
    np.testing.assert_array_equal(got.numpy(), t.numpy())
    p = xjit.nn.Parameter(xjit.ones(2))
    both = _roundtrip({"a": p, "b": p, "c": [t, t]}, io.BytesIO())
    assert isinstance(both["a"], xjit.nn.Parameter) and both["a"] is both["b"]
    assert both["c"][0] is both["c"][1]  # one object saved twice loads as one object
    got.numpy()[0, 0] = 99.0  # loaded tensors own writable memory
    assert t.numpy()[0, 0] != 99.0


def test_saved_state_dict_reloads_model_matching_torch(tmp_path: Path) -> None:
    """torch weights -> an xjit model -> xjit.save -> xjit.load into a fresh model: the same
    outputs as the torch model."""

    def make(T):
        return T.nn.Sequential(T.nn.Conv2d(3, 4, 3), T.nn.BatchNorm2d(4), T.nn.ReLU()).eval()

    tm = make(pt)
    with pt.no_grad():
        tm[1].running_mean.uniform_(-1, 1)
        tm[1].running_var.uniform_(0.5, 2)
    xm = make(xjit)
    xm.load_state_dict({k: xjit.from_numpy(v.numpy().copy()) for k, v in tm.state_dict().items()})
    xjit.save({"epoch": 1, "model": xm.state_dict()}, tmp_path / "m.pt")
    fresh = make(xjit)
    fresh.load_state_dict(xjit.load(tmp_path / "m.pt")["model"])
    x = rand(2, 3, 6, 6)
    assert_same(fresh(xjit.from_numpy(x)), tm(pt.from_numpy(x)), "reloaded")
    nbt = xjit.load(tmp_path / "m.pt")["model"]["1.num_batches_tracked"]
    assert nbt.dtype == xjit.int64  # as torch's buffer


def test_map_location_and_weights_only() -> None:
    buf = io.BytesIO()
    xjit.save([xjit.ones(2)], buf)
    for kwargs in (
        {"map_location": "cpu"},
        {"map_location": xjit.device("cpu")},
        {"map_location": lambda storage, loc: storage},
        {"map_location": {"cuda:0": "cpu"}},
        {"weights_only": False},
        {"weights_only": True, "mmap": False},
    ):
        buf.seek(0)
        _equal_trees(xjit.load(buf, **kwargs), [xjit.ones(2)])
    buf.seek(0)
    with pytest.raises(RuntimeError, match="CPU only"):
        xjit.load(buf, map_location="cuda")
    with pytest.raises(TypeError, match="never unpickles"):
        xjit.load(buf, pickle_module=pickle)


@pytest.mark.parametrize(
    "obj,where,what",
    [
        (np.ones(2), "obj:", "ndarray"),
        ({"a": [1, {2, 3}]}, r"obj\['a'\]\[1\]", "set"),
        ({"m": xjit.nn.Linear(2, 2)}, r"obj\['m'\]", "Linear.*state_dict"),
        ({(1, 2): 3}, "obj", "key"),
        ([lambda: 0], r"obj\[0\]", "function"),
    ],
)
def test_unsaveable_objects_are_named(obj, where, what) -> None:
    with pytest.raises(TypeError, match=f"at {where}") as err:
        xjit.save(obj, io.BytesIO())
    assert re.search(what, str(err.value)), str(err.value)


# -- hostile and foreign files -------------------------------------------------------------------


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    marker = ""

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _payload(tmp_path: Path) -> bytes:
    p = _Payload()
    p.marker = str(tmp_path / "PWNED")
    _Payload.marker = p.marker
    return pickle.dumps(p)


def _assert_refused(data: bytes, tmp_path: Path, match: str) -> None:
    with pytest.raises(LoadError, match=match):
        xjit.load(io.BytesIO(data))
    f = tmp_path / "hostile.pt"
    f.write_bytes(data)
    with pytest.raises(LoadError, match=match):
        xjit.load(f)
    assert not (tmp_path / "PWNED").exists(), "loading ran code"


def test_real_torch_files_are_refused_with_how_to_convert(tmp_path: Path) -> None:
    for new_format in (True, False):
        buf = io.BytesIO()
        pt.save({"w": pt.ones(2)}, buf, _use_new_zipfile_serialization=new_format)
        _assert_refused(buf.getvalue(), tmp_path, "PyTorch pickle file.*safetensors")
    # a torch-format zip whose data.pkl would run code
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", _payload(tmp_path))
    _assert_refused(buf.getvalue(), tmp_path, "PyTorch pickle file")
    _assert_refused(_payload(tmp_path), tmp_path, "PyTorch pickle file")  # a bare pickle


def _archive(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


def test_pickles_inside_an_xjit_archive_are_refused(tmp_path: Path) -> None:
    tree = json.dumps({"t": "tensor", "i": 0}).encode()
    base = {"xjit_save/format": b"xjit-save 1", "xjit_save/tree.json": tree}
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload()
    _payload(tmp_path)  # sets the marker path
    # an object array (its .npy body is a pickle)
    _assert_refused(_archive({**base, "xjit_save/tensors/0.npy": _npy(evil)}), tmp_path, "tensor 0")
    # a pickle beside valid entries
    ok = {**base, "xjit_save/tensors/0.npy": _npy(np.ones(2, np.float32))}
    _assert_refused(
        _archive({**ok, "xjit_save/extra.pkl": _payload(tmp_path)}),
        tmp_path,
        "unexpected archive entries",
    )
    assert np.array_equal(xjit.load(io.BytesIO(_archive(ok))).numpy(), np.ones(2))
    buf = io.BytesIO()  # a deflated entry (a zip bomb's shape): refused before reading it
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in ok.items():
            z.writestr(name, data)
    _assert_refused(buf.getvalue(), tmp_path, "compressed archive entries")


@pytest.mark.parametrize(
    "tree,match",
    [
        ({"t": "tensor", "i": 1}, "does not hold"),
        ({"t": "tensor", "i": -1}, "does not hold"),
        ({"t": "tensor", "i": 0.0}, "does not hold"),
        ({"t": "pickle", "v": "x"}, "unknown tree node kind"),
        ({"t": "int", "v": "3"}, "a 'int' node holds"),
        ({"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]}, "key is not a scalar"),
        ({"t": "dtype", "v": "object"}, "unknown dtype"),
        ([1], "malformed tree node"),
    ],
)
def test_malformed_trees_are_refused(tree, match: str) -> None:
    data = _archive(
        {
            "xjit_save/format": b"xjit-save 1",
            "xjit_save/tree.json": json.dumps(tree).encode(),
            "xjit_save/tensors/0.npy": _npy(np.ones(2, np.float32)),
        }
    )
    with pytest.raises(LoadError, match=match):
        xjit.load(io.BytesIO(data))


def test_other_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="not a zip archive"):
        xjit.load(io.BytesIO(b"hello"))
    with pytest.raises(LoadError, match="without xjit_save/format"):
        xjit.load(io.BytesIO(_archive({"a.txt": b"x"})))
    nested = '{"t": "list", "v": [' * 100_000 + "]}" * 100_000
    deep = _archive({"xjit_save/format": b"xjit-save 1", "xjit_save/tree.json": nested.encode()})
    with pytest.raises(LoadError, match="nested too deeply"):
        xjit.load(io.BytesIO(deep))
    xjit.save(xjit.ones(1), tmp_path / "t.pt")
    with open(tmp_path / "t.pt") as f, pytest.raises(LoadError, match="text mode"):
        xjit.load(f)


def test_the_payload_is_live(tmp_path: Path) -> None:
    """The hostile tests mean something: unpickling their payload does run code."""
    pickle.loads(_payload(tmp_path))  # noqa: S301
    assert (tmp_path / "PWNED").exists()
