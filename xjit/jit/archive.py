"""The `.xjit` archive: `save` a compiled module, `load` it back anywhere. See docs/archive.md.

A module is saved as three things, none of them Python:

- its hierarchy (type names, `extra_repr` text, children, parameter and buffer names, methods),
- the torch-dialect IR of its compiled methods,
- its named tensors (parameters and buffers), by dotted path.

All of it goes into one zip: `model.mlir` (the IR, the hierarchy as an attribute of the outer
`builtin.module`), `tensors/<dotted.name>.npy`, and `manifest.json` (format version, method
signatures, a sha256 per entry). Loading reads entries into memory (nothing is extracted), loads
arrays with `allow_pickle=False`, parses and verifies the IR, checks every tensor against the IR,
and compiles the methods with the normal pipeline; the numpy backend only ever turns IR symbol
names into its own identifiers. Anything wrong raises `ArchiveError` and nothing is returned.

The format (archive_format.py), saving (archive_write.py), loading and validation
(archive_read.py) and the loaded objects (archive_loaded.py) each have their own module; this one
is the public face `xjit.jit.archive` has always been, and the names tests reach for.
"""

from xjit.jit.archive_format import (
    FORMAT,
    FORMAT_VERSION,
    HIERARCHY_ATTR,
    IR_ENTRY,
    MANIFEST,
    READABLE_VERSIONS,
    TENSOR_DIR,
    ArchiveError,
    Node,
    _from_attr,
    _to_attr,
    entry_name,
)
from xjit.jit.archive_loaded import LoadedModule, LoadedScriptFunction, LoadedScriptModule
from xjit.jit.archive_read import ScriptGraph, _parse_ir, _read_archive, load
from xjit.jit.archive_write import (
    MethodSpec,
    _print_ir,
    archive_entries,
    compiled_methods,
    save,
    scripted_methods,
    write_zip,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HIERARCHY_ATTR",
    "IR_ENTRY",
    "MANIFEST",
    "READABLE_VERSIONS",
    "TENSOR_DIR",
    "ArchiveError",
    "LoadedModule",
    "LoadedScriptFunction",
    "LoadedScriptModule",
    "MethodSpec",
    "Node",
    "ScriptGraph",
    "archive_entries",
    "compiled_methods",
    "entry_name",
    "load",
    "save",
    "scripted_methods",
    "write_zip",
    # private, used by tests and bench/archive_load.py
    "_from_attr",
    "_parse_ir",
    "_print_ir",
    "_read_archive",
    "_to_attr",
]
