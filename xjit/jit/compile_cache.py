"""A persistent compile cache: generated numpy programs on disk, like `__pycache__` or Inductor's
FX graph cache, so a second process compiling the same function skips the pass pipeline.

Key: sha256 of the torch-dialect IR text of the module, the function name, the pipeline (its
stages and passes), the bound parameters' shapes and dtypes (not values: parameters are bound by
reference at run time), and the versions of xjit (plus a hash of its sources, so an edited
checkout never reuses stale code), xDSL, numpy and Python.

Where: `$XJIT_CACHE_DIR`, else `$XDG_CACHE_HOME/xjit`, else `~/.cache/xjit`. `XJIT_CACHE=0` turns
it off. Entries hold Python source that is exec'd, so nothing is trusted blindly: the directory
must be owned by the user and not writable by group or others (else the cache is refused), each
entry file likewise, and an entry carries its key and a sha256 of its payload. A corrupt,
foreign or mismatched entry is ignored (and rebuilt). Writes are atomic (temp file +
os.replace), and any I/O error only costs the cache, never the compile. No pickle: the payload
is JSON, arrays as base64 bytes with dtype and shape.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import stat
import sys
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

import xjit
from xjit.backends.numpy.program import ProgramArtifact

FORMAT = 1
_SUFFIX = ".xjc"
# The packages whose code decides what a compile produces (hashed into every key).
_SOURCE_PACKAGES = ("xjit", "xjit.dialects", "xjit.passes", "xjit.frontends", "xjit.backends")


class CacheWarning(UserWarning):
    """The compile cache was refused (unsafe directory); compiling goes on without it."""


def enabled() -> bool:
    return os.environ.get("XJIT_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> Path:
    if os.environ.get("XJIT_CACHE_DIR"):
        return Path(os.environ["XJIT_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "xjit"
    return Path.home() / ".cache" / "xjit"


def _uid() -> int:
    return os.getuid()


def _safe(st: os.stat_result) -> bool:
    """Owned by us, writable by nobody else."""
    return st.st_uid == _uid() and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


_warned: set[str] = set()


def _refuse(why: str) -> None:
    if why not in _warned:  # once per reason and process
        _warned.add(why)
        warnings.warn(f"xjit compile cache disabled: {why}", CacheWarning, stacklevel=4)


def usable_dir() -> Path | None:
    """The cache directory, created (0700) if missing, or None if off or unsafe."""
    if not enabled() or not hasattr(os, "getuid"):
        return None
    d = cache_dir()
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(d, follow_symlinks=False)
    except OSError as e:
        _refuse(f"cannot create {d}: {e}")
        return None
    if not stat.S_ISDIR(st.st_mode):
        _refuse(f"{d} is not a directory")
        return None
    if not _safe(st):
        _refuse(f"{d} must be owned by you and not group/world-writable (chmod 700 it)")
        return None
    return d


@functools.cache
def _source_hash() -> str:
    """sha256 over xjit's source files' paths, sizes and mtimes (as __pycache__ checks a
    source's mtime): an edited checkout keys differently, without reading every file."""
    h = hashlib.sha256()
    for pkg in _SOURCE_PACKAGES:
        mod = sys.modules.get(pkg) or __import__(pkg, fromlist=["_"])
        for root in getattr(mod, "__path__", []):
            for p in sorted(Path(root).rglob("*.py")):
                st = p.stat()
                h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _xdsl_version() -> str:
    """xDSL's installed version, from its `.dist-info` directory's name beside the package
    (importlib.metadata, which xDSL's own `__version__` uses, costs ~10 ms of a fresh process's
    first compile: issue 14, cold start), else from importlib.metadata."""
    import xdsl  # lazy: the compiler has imported it by the time a key is made

    site = Path(xdsl.__file__).resolve().parent.parent
    try:
        infos = sorted(
            n for n in os.listdir(site) if n.startswith("xdsl-") and n.endswith(".dist-info")
        )
    except OSError:
        infos = []
    if len(infos) == 1:
        return infos[0][len("xdsl-") : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version  # lazy: see above

    try:
        return version("xdsl")
    except PackageNotFoundError:  # pragma: no cover - xdsl is a dependency
        return "?"


@functools.cache
def _versions() -> str:
    xdsl_version = _xdsl_version()
    return json.dumps(
        [xjit.__version__, _source_hash(), xdsl_version, np.__version__, sys.version, FORMAT]
    )


def make_key(ir_text: str, name: str, pipeline: str, params: Mapping[str, np.ndarray | Any]) -> str:
    shapes = sorted((k, list(np.shape(v)), str(np.asarray(v).dtype)) for k, v in params.items())
    blob = json.dumps([ir_text, name, pipeline, shapes, _versions()])
    return hashlib.sha256(blob.encode()).hexdigest()


def _encode(art: ProgramArtifact) -> bytes:
    if any(a.dtype.hasobject for a in art.constants.values()):
        raise ValueError("object arrays are not cacheable")
    consts = {
        s: {"dtype": a.dtype.str, "shape": list(a.shape), "data": _b64(a)}
        for s, a in art.constants.items()
    }
    payload = {
        "source": art.source,
        "functions": art.functions,
        "globals": art.globals,
        "global_specs": {s: [dt, list(shape)] for s, (dt, shape) in art.global_specs.items()},
        "constants": consts,
        "warnings": art.warnings,
    }
    return json.dumps(payload, sort_keys=True).encode()


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


def _decode(data: bytes) -> ProgramArtifact:
    p = json.loads(data)
    consts = {}
    for s, c in p["constants"].items():
        raw = base64.b64decode(c["data"], validate=True)
        consts[s] = np.frombuffer(raw, dtype=np.dtype(c["dtype"])).reshape(c["shape"]).copy()
    specs = {s: (str(dt), tuple(shape)) for s, (dt, shape) in p["global_specs"].items()}
    return ProgramArtifact(
        str(p["source"]),
        dict(p["functions"]),
        dict(p["globals"]),
        specs,
        consts,
        [str(w) for w in p["warnings"]],
    )


def load(key: str) -> ProgramArtifact | None:
    """The cached artifact for `key`, or None (miss, cache off or unsafe, entry not trusted)."""
    d = usable_dir()
    if d is None:
        return None
    try:
        fd = os.open(d / (key + _SUFFIX), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None  # a miss (or a symlink planted in our place)
    try:
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or not _safe(st):
                return None  # someone else's file: never exec it
            header, _, payload = f.read().partition(b"\n")
        h = json.loads(header)
        if h.get("format") != FORMAT or h.get("key") != key:
            return None
        if h.get("sha256") != hashlib.sha256(payload).hexdigest():
            return None
        return _decode(payload)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # corrupt: recompiled and overwritten by the caller


def store(key: str, art: ProgramArtifact) -> None:
    """Write `art` under `key` atomically; failures only cost the cache."""
    d = usable_dir()
    if d is None:
        return
    try:
        payload = _encode(art)
    except (TypeError, ValueError):
        return  # e.g. an object-dtype constant: not cacheable
    header = json.dumps(
        {"format": FORMAT, "key": key, "sha256": hashlib.sha256(payload).hexdigest()}
    )
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=_SUFFIX, dir=d)  # mode 0600
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header.encode() + b"\n" + payload)
        os.replace(tmp, d / (key + _SUFFIX))
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
