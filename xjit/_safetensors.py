"""Reading `.safetensors` weight files without PyTorch or the `safetensors` package.

The format (https://huggingface.co/docs/safetensors): 8 bytes, a little-endian u64 N; N bytes
of UTF-8 JSON, an object mapping each tensor name to {"dtype", "shape", "data_offsets":
[begin, end]} (offsets into the byte buffer that follows the header) plus an optional
"__metadata__" object of strings; then the byte buffer, each tensor's elements little-endian,
row-major. Everything is checked before any tensor is made, as the reference implementation
does: a header that is not such an object, an unknown dtype, a size that disagrees with the
shape, offsets outside the buffer, overlapping or leaving holes, all raise `SafetensorsError`
naming the file and the tensor.

dtypes: F64, F32, I64, I32, BOOL load as themselves; F16 and BF16 widen (exactly) to float32,
as xjit has no 16-bit floats; other dtypes (I8, U8, I16, F8_*, ...) are refused.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from xjit._tensor import Tensor

# The reference implementation refuses headers above 100 MB.
MAX_HEADER = 100_000_000

# dtype -> (little-endian numpy dtype as stored, numpy dtype loaded)
_DTYPES: dict[str, tuple[str, str]] = {
    "F64": ("<f8", "float64"),
    "F32": ("<f4", "float32"),
    "F16": ("<f2", "float32"),
    "BF16": ("<u2", "float32"),
    "I64": ("<i8", "int64"),
    "I32": ("<i4", "int32"),
    "BOOL": ("|u1", "bool"),
}


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file (or holds a dtype xjit has no type for)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise SafetensorsError(f"duplicate key {k!r} in the header")
        out[k] = v
    return out


def _read_header(data: bytes) -> tuple[dict[str, Any], int]:
    if len(data) < 8:
        raise SafetensorsError("file too short: no 8-byte header length")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER:
        raise SafetensorsError(f"header length {n} exceeds the limit of {MAX_HEADER} bytes")
    if 8 + n > len(data):
        raise SafetensorsError(f"header length {n} runs past the end of the file")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"header is not UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    return header, 8 + n


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _entry(name: str, info: Any) -> tuple[str, list[int], int, int]:
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(
            f"tensor {name!r}: expected exactly the keys dtype, shape, data_offsets"
        )
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str):
        raise SafetensorsError(f"tensor {name!r}: dtype {dtype!r} is not a string")
    if dtype not in _DTYPES:
        raise SafetensorsError(
            f"tensor {name!r}: dtype {dtype} is not supported (xjit loads "
            f"{', '.join(_DTYPES)}; F16/BF16 as float32)"
        )
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise SafetensorsError(f"tensor {name!r}: shape {shape!r} is not a list of sizes")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_int(o) and o >= 0 for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise SafetensorsError(f"tensor {name!r}: data_offsets {offsets!r} is not [begin, end]")
    nbytes = math.prod(shape) * np.dtype(_DTYPES[dtype][0]).itemsize
    if offsets[1] - offsets[0] != nbytes:
        raise SafetensorsError(
            f"tensor {name!r}: data_offsets {offsets} hold {offsets[1] - offsets[0]} bytes, "
            f"but {dtype} of shape {shape} needs {nbytes}"
        )
    return dtype, shape, offsets[0], offsets[1]


def _decode(raw: bytes, dtype: str, shape: list[int]) -> np.ndarray:
    stored, loaded = _DTYPES[dtype]
    a = np.frombuffer(raw, dtype=stored).reshape(shape)
    if dtype == "BF16":  # bfloat16 is the high half of a float32: exact
        return (a.astype(np.uint32) << 16).view(np.float32)
    if dtype == "BOOL":
        if a.size and a.max() > 1:
            raise SafetensorsError("BOOL tensor holds bytes other than 0 and 1")
        return a.astype(np.bool_)
    return a.astype(loaded)  # native byte order, a copy (writable, not tied to the file)


def load_safetensors(path: str | os.PathLike[str]) -> dict[str, Tensor]:
    """The tensors of a `.safetensors` file by name, in the file's order; pass the dict to
    `Module.load_state_dict`."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        header, start = _read_header(data)
        meta = header.pop("__metadata__", {})
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            raise SafetensorsError("__metadata__ is not an object of strings")
        entries = {name: _entry(name, info) for name, info in header.items()}
        _check_coverage(entries, len(data) - start)
    except SafetensorsError as e:
        raise SafetensorsError(f"{os.fspath(path)}: {e}") from None
    out: dict[str, Tensor] = {}
    for name, (dtype, shape, begin, end) in entries.items():
        try:
            out[name] = Tensor(_decode(data[start + begin : start + end], dtype, shape))
        except SafetensorsError as e:
            raise SafetensorsError(f"{os.fspath(path)}: tensor {name!r}: {e}") from None
    return out


def _check_coverage(entries: dict[str, tuple[str, list[int], int, int]], size: int) -> None:
    """The tensors tile the byte buffer: no overlap, no hole, nothing past its end."""
    end = 0
    for name, (_, _, b, e) in sorted(entries.items(), key=lambda kv: (kv[1][2], kv[1][3])):
        if b != end:
            raise SafetensorsError(
                f"tensor {name!r}: data_offsets start at {b}, expected {end} "
                f"({'overlapping the previous tensor' if b < end else 'leaving a hole'})"
            )
        end = e
    if end != size:
        raise SafetensorsError(
            f"the tensors cover {end} bytes of data but the file holds {size} after the header"
        )
