"""`torch.save` / `torch.load` without pickle: a hostile file cannot run code.

What users save (a tensor, a `state_dict`, a checkpoint `{'epoch': 3, 'model': sd, ...}`) is a
tree of containers, numbers, strings and tensors. xjit writes it as a zip archive of:

- `xjit_save/format`: the text `xjit-save 1` (what `load` recognises the file by);
- `xjit_save/tree.json`: the tree as JSON nodes, `{"t": kind, ...}` (below);
- `xjit_save/tensors/<i>.npy`: tensor i, in numpy's `.npy` format, read back with
  `allow_pickle=False` (an object array is refused).

Nodes: `none`, `bool`/`int`/`float`/`str` (`v`; a float's `v` is its `repr`, so inf and nan
survive), `tensor` (`i`: the entry, `param`: a Parameter), `list`/`tuple`/`size` (`v`: nodes),
`dict`/`odict` (`v`: [key node, value node] pairs: keys may be any scalar), `dtype` (`v`: its
name). The same tensor object saved twice loads as one object (torch keeps identity too; views
of one another are saved as copies, unlike torch's shared storages).

A real PyTorch file (a zip holding `data.pkl`, or a legacy pickle) is refused with how to
convert it: unpickling it could run arbitrary code.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from xjit._tensor import Size, Tensor
from xjit.nn.module import Parameter
from xjit.ops import types as _t

_PREFIX = "xjit_save/"
_FORMAT = "xjit-save 1"
_MAX_JSON = 100_000_000  # bytes of tree.json read at most (as safetensors' header limit)

_TORCH_FILE = (
    "is a PyTorch pickle file (torch.save's format). xjit does not unpickle: a pickle can run "
    "arbitrary code. Convert it with PyTorch once, e.g. "
    "`from safetensors.torch import save_file; save_file(torch.load(path, weights_only=True), "
    "'model.safetensors')` then `xjit.load_safetensors('model.safetensors')`, or re-save the "
    "state dict with xjit.save"
)


class LoadError(ValueError):
    """A file that `xjit.load` refuses: not an xjit save file, a PyTorch pickle, or malformed."""


# -- save -------------------------------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.seen: dict[int, int] = {}  # id(tensor) -> its entry
        self.keep: list[Tensor] = []  # keeps ids valid while saving

    def node(self, obj: Any, where: str) -> dict[str, Any]:
        if obj is None:
            return {"t": "none"}
        if isinstance(obj, (bool, int, str)):
            return {"t": type(obj).__name__, "v": obj}
        if isinstance(obj, float):
            return {"t": "float", "v": repr(obj)}
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, _t.DType):
            return {"t": "dtype", "v": obj.name}
        if isinstance(obj, dict):
            kind = "odict" if isinstance(obj, OrderedDict) else "dict"
            return {"t": kind, "v": [self.pair(k, v, where) for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            kind = "size" if isinstance(obj, Size) else type(obj).__name__
            if kind not in ("list", "tuple", "size"):  # a namedtuple, a list subclass
                self.refuse(obj, where)
            return {"t": kind, "v": [self.node(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        self.refuse(obj, where)
        raise AssertionError  # unreachable: refuse raises

    def pair(self, key: Any, value: Any, where: str) -> list[dict[str, Any]]:
        if not (key is None or isinstance(key, (bool, int, float, str))):
            raise TypeError(
                f"xjit.save: dict key {key!r} at {where} is a {type(key).__name__}: keys must be "
                "str, int, float, bool or None"
            )
        return [self.node(key, where), self.node(value, f"{where}[{key!r}]")]

    def tensor(self, t: Tensor) -> dict[str, Any]:
        i = self.seen.get(id(t))
        if i is None:
            i = self.seen[id(t)] = len(self.arrays)
            self.arrays.append(t.numpy())  # np.save writes any layout
            self.keep.append(t)
        node: dict[str, Any] = {"t": "tensor", "i": i}
        if isinstance(t, Parameter):
            node["param"] = True
        return node

    @staticmethod
    def refuse(obj: Any, where: str) -> None:
        hint = ""
        if hasattr(obj, "state_dict") and hasattr(obj, "forward"):
            hint = " (save the module's state_dict() and load it into a new instance)"
        raise TypeError(
            f"xjit.save: cannot save a {type(obj).__name__} at {where}: xjit saves tensors, "
            f"numbers, strings, None, dtypes and dicts/lists/tuples of them, without pickle{hint}"
        )


def save(obj: Any, f: str | os.PathLike[str] | IO[bytes], *args: Any, **kwargs: Any) -> None:
    """`torch.save(obj, f)`: `obj` (tensors, numbers, strings and containers of them) to a path
    or a binary file object, as a zip of `.npy` entries and a JSON tree (no pickle).
    torch's `pickle_module`, `pickle_protocol` and `_use_new_zipfile_serialization` are
    accepted and ignored (no other pickle module can be used)."""
    unknown = set(kwargs) - {"pickle_module", "pickle_protocol", "_use_new_zipfile_serialization"}
    if unknown or len(args) > 3:
        raise TypeError(f"xjit.save: unexpected arguments {sorted(unknown) or args}")
    w = _Writer()
    tree = w.node(obj, "obj")
    target: Any = os.fspath(f) if isinstance(f, (str, os.PathLike)) else f
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(_PREFIX + "format", _FORMAT)
        z.writestr(_PREFIX + "tree.json", json.dumps(tree))
        for i, a in enumerate(w.arrays):
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(f"{_PREFIX}tensors/{i}.npy", buf.getvalue())


# -- load -------------------------------------------------------------------------------------------


class _Reader:
    def __init__(self, z: zipfile.ZipFile) -> None:
        self.z = z
        self.loaded: dict[int, Tensor] = {}
        self.names = set(z.namelist())

    def node(self, n: Any) -> Any:
        if not isinstance(n, dict) or not isinstance(n.get("t"), str):
            raise LoadError(f"malformed tree node {str(n)[:80]!r}")
        kind, v = n["t"], n.get("v")
        if kind == "none":
            return None
        if kind in ("bool", "int", "str"):
            want = {"bool": bool, "int": int, "str": str}[kind]
            if type(v) is not want:
                raise LoadError(f"a '{kind}' node holds {str(v)[:80]!r}")
            return v
        if kind == "float":
            try:
                return float(v)
            except (TypeError, ValueError):
                raise LoadError(f"a 'float' node holds {str(v)[:80]!r}") from None
        if kind == "tensor":
            return self.tensor(n)
        if kind == "dtype":
            if not any(d.name == v for d in _t.ALL_DTYPES):
                raise LoadError(f"unknown dtype {str(v)[:80]!r}")
            return next(d for d in _t.ALL_DTYPES if d.name == v)
        if kind not in ("list", "tuple", "size", "dict", "odict"):
            raise LoadError(f"unknown tree node kind {kind[:40]!r}")
        if not isinstance(v, list):
            raise LoadError(f"a '{kind}' node's value is not a list")
        if kind in ("list", "tuple", "size"):
            items = [self.node(x) for x in v]
            return {"list": list, "tuple": tuple, "size": Size}[kind](items)
        if kind in ("dict", "odict"):
            out: dict[Any, Any] = OrderedDict() if kind == "odict" else {}
            for pair in v:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise LoadError("a dict entry is not a [key, value] pair")
                key = self.node(pair[0])
                if not (key is None or isinstance(key, (bool, int, float, str))):
                    raise LoadError("a dict key is not a scalar")
                out[key] = self.node(pair[1])
            return out
        raise AssertionError(kind)  # unreachable: kinds checked above

    def tensor(self, n: dict[str, Any]) -> Tensor:
        i = n.get("i")
        entry = f"{_PREFIX}tensors/{i}.npy"
        if not isinstance(i, int) or isinstance(i, bool) or entry not in self.names:
            raise LoadError(f"tensor node names entry {i!r}, which the archive does not hold")
        if i not in self.loaded:
            with self.z.open(entry) as e:
                try:
                    a = np.load(io.BytesIO(e.read()), allow_pickle=False)
                except ValueError as err:  # object arrays need pickle: refused
                    raise LoadError(f"tensor {i}: {err}") from None
            if not isinstance(a, np.ndarray) or a.dtype not in [d.np for d in _t.ALL_DTYPES]:
                raise LoadError(f"tensor {i}: dtype {getattr(a, 'dtype', a)} is not a tensor type")
            self.loaded[i] = _as_tensor(a.astype(a.dtype.newbyteorder("="), copy=False), n)
        return self.loaded[i]


def _as_tensor(a: np.ndarray, n: dict[str, Any]) -> Tensor:
    if n.get("param"):
        return Parameter(a)
    return Tensor(a)  # np.load made it: C-ordered, writable, owned


def _name(f: Any) -> str:
    return os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file>")


def _open_archive(f: Any) -> zipfile.ZipFile:
    """The zip archive of an xjit save file, or LoadError saying what the file is instead."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            data = fh.read()
    elif isinstance(f, io.TextIOBase):
        raise LoadError("the file object is open in text mode: open it with 'rb'")
    else:
        data = f.read()
    if data[:1] == b"\x80":  # a pickle's PROTO opcode: torch's legacy format
        raise LoadError(_TORCH_FILE)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LoadError("not an xjit save file (not a zip archive)")
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    if any(n.endswith("data.pkl") for n in names):
        raise LoadError(_TORCH_FILE)
    packed = [i.filename for i in z.infolist() if i.compress_type != zipfile.ZIP_STORED]
    if packed:  # xjit stores entries uncompressed: no entry can expand beyond the file's size
        raise LoadError(f"compressed archive entries {packed[:5]}: refused")
    if _PREFIX + "format" not in names or z.read(_PREFIX + "format") != _FORMAT.encode():
        raise LoadError(f"not an xjit save file (a zip archive without {_PREFIX}format)")
    extra = [n for n in names if not _expected_entry(n)]
    if extra:  # e.g. a pickle slipped in beside the tensors: nothing but .npy and JSON is read
        raise LoadError(f"unexpected archive entries {extra[:5]}: refused")
    return z


def _expected_entry(name: str) -> bool:
    if name in (_PREFIX + "format", _PREFIX + "tree.json"):
        return True
    stem = name.removeprefix(_PREFIX + "tensors/").removesuffix(".npy")
    return name == f"{_PREFIX}tensors/{stem}.npy" and stem.isdigit() and str(int(stem)) == stem


def load(
    f: str | os.PathLike[str] | IO[bytes],
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """`torch.load(f)`: what `xjit.save` wrote, from a path or a binary file object. Never
    unpickles (so `weights_only` True or False loads the same tree); `map_location` may be None,
    "cpu", a device, or a dict/callable of them: xjit runs on the CPU, so it changes nothing."""
    if pickle_module is not None or pickle_load_args:
        raise TypeError("xjit.load: pickle_module / pickle load arguments: xjit never unpickles")
    _check_location(map_location)
    try:
        z = _open_archive(f)
        with z:
            raw = z.read(_PREFIX + "tree.json")
            if len(raw) > _MAX_JSON:
                raise LoadError(f"tree.json is {len(raw)} bytes, above the {_MAX_JSON} limit")
            try:
                tree = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                raise LoadError(f"tree.json is not UTF-8 JSON: {e}") from None
            return _Reader(z).node(tree)
    except LoadError as e:
        raise LoadError(f"xjit.load: {_name(f)}: {e}") from None
    except RecursionError:
        raise LoadError(f"xjit.load: {_name(f)}: the tree is nested too deeply") from None


def _check_location(loc: Any) -> None:
    """torch's map_location forms: all name the CPU here, or fail loudly."""
    if loc is None or callable(loc) or isinstance(loc, dict):
        return  # a callable/dict remaps storages: there are none to remap on a CPU-only xjit
    name = str(loc)
    if name != "cpu" and not name.startswith("cpu:"):
        raise RuntimeError(
            f"xjit.load(map_location={loc!r}): xjit runs on the CPU only; use 'cpu' or None"
        )
