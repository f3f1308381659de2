"""`xjit-run`: run a saved model or an MLIR file on `.npy` inputs, with no Python to write.

    xjit-run model.xjit --input xs.npy [--input ...] [--output out.npz] [--method forward]
    xjit-run model.mlir --entry forward --input x.npy

An `.xjit` archive (see docs/archive.md) runs the method it names. A `.mlir` file may be at the
torch level (it is lowered with the torch-to-loops pipeline first) or at the loops level (it goes
straight to the numpy backend); it carries no parameter values, so globals without an
initialiser are an error. Outputs are printed, or written to an `.npz` (`output_0`, ... in the
order the method returns them). Every error is one line on stderr and exit status 1 (set
XJIT_DEBUG=1 for the Python traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

import xjit
from xjit._cli import ToolError, console_main, one_line, parser
from xjit.frontends.signature import OutputSpec

PROG = "xjit-run"


class RunError(ToolError):
    """An error worded for the user: `xjit-run: error: <message>`, exit status 1."""


def _one_line(text: str) -> str:
    return one_line(text, " ")


def _arg_parser() -> argparse.ArgumentParser:
    p = parser(
        PROG,
        RunError,
        "Run a saved xjit model (.xjit) or a torch-/loops-level .mlir file on .npy inputs.",
    )
    p.add_argument("model", help="an .xjit archive or an .mlir file")
    p.add_argument(
        "--input",
        "-i",
        action="append",
        default=[],
        metavar="FILE.npy",
        help="one positional input per --input, in order",
    )
    p.add_argument(
        "--output",
        "-o",
        metavar="FILE.npz",
        help="write the outputs here (output_0, output_1, ...) instead of printing them",
    )
    p.add_argument(
        "--method",
        "--entry",
        dest="method",
        default="forward",
        help="the method (archive) or function (.mlir) to run (default: forward)",
    )
    return p


def _load_inputs(paths: Sequence[str]) -> list[np.ndarray]:
    arrays = []
    for path in paths:
        try:
            a = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise RunError(f"input file '{path}' not found") from None
        except IsADirectoryError:
            raise RunError(f"input '{path}' is a directory") from None
        except Exception as e:  # pickled/object arrays, bad headers, truncation
            raise RunError(
                f"input '{path}' is not a readable .npy array: {_one_line(str(e))}"
            ) from None
        if not isinstance(a, np.ndarray):
            raise RunError(f"input '{path}' is an .npz archive; pass one .npy file per --input")
        arrays.append(a)
    return arrays


def _tensors(arrays: list[np.ndarray], paths: Sequence[str], want: Sequence[Any] = ()) -> list[Any]:
    """xjit tensors of the inputs; an unsupported dtype (float16, uint8, ...) is named with its
    file and, when the signature says it (`want`: dtype names), the dtype expected."""
    out = []
    for i, (a, path) in enumerate(zip(arrays, paths, strict=True)):
        try:
            out.append(xjit.from_numpy(a))
        except TypeError as e:
            expected = f"; argument {i} expects {want[i]}" if i < len(want) else ""
            raise RunError(f"input {i} '{path}': {_one_line(str(e))}{expected}") from None
    return out


# --------------------------------------------------------------------------------------------
# .xjit archives


def _run_archive(
    path: str, method: str, inputs: list[np.ndarray], paths: Sequence[str]
) -> list[np.ndarray]:
    # lazy: xjit-run loads only what its input needs (an archive runs without the IR tools)
    from xjit.jit.archive import ArchiveError, load

    try:
        module = load(path)
    except ArchiveError as e:
        raise RunError(f"{path}: {e}") from None
    methods = _archive_methods(module)
    if method not in methods:
        have = ", ".join(sorted(methods)) or "none"
        raise RunError(f"{path}: no method '{method}' (the archive has: {have})")
    result = _call(methods[method], lambda: _tensors(inputs, paths), f"{path}: {method}")
    return [t.numpy() for t in _leaves(result)]


def _call(fn: Any, args: Any, where: str) -> Any:
    """`fn(*args())`, with what the compiled code checks at run time (argument shapes and
    dtypes, sizes and indices, trace guards, a scripted `raise`) reported as the tool's error."""
    # lazy: xjit-run loads only what its input needs (an archive runs without the IR tools)
    from xjit.backends.numpy.runtime import ShapeMismatch
    from xjit.errors import ScriptError, TraceGuardError
    from xjit.jit.compiled import ArgumentError

    try:
        return fn(*args())
    except ArgumentError as e:
        raise RunError(_arg_hint(str(e))) from None
    except (ShapeMismatch, ScriptError, TraceGuardError) as e:
        raise RunError(f"{where} failed: {type(e).__name__}: {one_line(str(e))}") from None
    except MemoryError as e:  # sizes in the IR (or inputs) larger than this machine holds
        raise RunError(f"{where} failed: out of memory: {one_line(str(e))}") from None


def _archive_methods(module: Any, prefix: str = "") -> dict[str, Any]:
    """Every method of a loaded archive by dotted name (`forward`, `loop.forward`): traced ones
    and scripted ones (specialised to the inputs' shapes on the call), of the root and below;
    the function itself for a function archive."""
    # lazy: xjit-run loads only what its input needs (an archive runs without the IR tools)
    from xjit.jit.compiled import CompiledFunction

    if isinstance(module, CompiledFunction):
        return {module.name: module}
    out: dict[str, Any] = {}
    for hook in ("_compiled_methods", "_scripted_methods"):
        if hasattr(module, hook):
            out.update({prefix + n: m for n, m in getattr(module, hook)().items()})
    for n, child in getattr(module, "_modules", {}).items():
        if child is not None:
            out.update(_archive_methods(child, f"{prefix}{n}."))
    return out


def _arg_hint(message: str) -> str:
    return message + (" (pass one --input per argument)" if "arguments" in message else "")


def _leaves(v: Any) -> list[Any]:
    if v is None:  # a None result (imported programs): no output
        return []
    if isinstance(v, dict):
        return [x for item in v.values() for x in _leaves(item)]
    if isinstance(v, list | tuple):
        return [x for item in v for x in _leaves(item)]
    return [v]


# --------------------------------------------------------------------------------------------
# .mlir files


def _parse_mlir(path: str) -> Any:
    # lazy: xjit-run loads only what its input needs (an archive runs without the IR tools)
    from xjit._irtext import IRTextError, parse_and_verify
    from xjit.dialects import make_context

    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise RunError(f"'{path}' not found") from None
    except OSError as e:
        raise RunError(f"cannot read '{path}': {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RunError(f"{path}: not UTF-8 text ({e.reason})") from None
    try:
        return parse_and_verify(make_context(), text, path)
    except IRTextError as e:
        raise RunError(f"{e.location}: {e.message}") from None


def _is_torch_level(module: Any) -> bool:
    # lazy: xjit-run loads only what its input needs (an archive runs without the IR tools)
    from xjit.dialects.torch_types import ValueTensorType

    for op in module.walk():
        if op.name.startswith("torch."):
            return True
        if any(isinstance(v.type, ValueTensorType) for v in op.results):
            return True
        for region in op.regions:
            for block in region.blocks:
                if any(isinstance(a.type, ValueTensorType) for a in block.args):
                    return True
    return False


def _method_module(module: Any, name: str) -> Any:
    """An archive's model.mlir holds one `builtin.module @<method>` per method: pick one."""
    from xdsl.dialects.builtin import ModuleOp

    for op in module.ops:
        if isinstance(op, ModuleOp) and op.sym_name is not None and op.sym_name.data == name:
            return op
    return module


def _find_func(module: Any, path: str, name: str) -> Any:
    from xdsl.dialects import func

    funcs = {op.sym_name.data: op for op in module.ops if isinstance(op, func.FuncOp)}
    if name not in funcs:
        have = ", ".join(sorted(funcs)) or "none"
        raise RunError(f"{path}: no function @{name} (defined: {have}); choose one with --entry")
    if funcs[name].is_declaration:
        raise RunError(f"{path}: @{name} is a declaration without a body")
    return funcs[name]


def _run_torch_mlir(
    path: str, module: Any, entry: str, inputs: list[np.ndarray], paths: Sequence[str]
) -> list[np.ndarray]:
    # lazy: xjit-run loads only what its input needs (an archive runs without the IR tools)
    from xjit.dialects.torch import GlobalSlotOp
    from xjit.dialects.torch_types import ValueTensorType
    from xjit.jit.compiled import CompiledFunction

    fop = _find_func(module, path, entry)
    slots = [op.sym_name.data for op in module.ops if isinstance(op, GlobalSlotOp)]
    if slots:
        raise RunError(
            f"{path}: global slot @{slots[0]} has no value (an .mlir file holds no parameters; "
            "run the model's .xjit archive instead)"
        )
    ins = fop.function_type.inputs.data
    if not all(isinstance(t, ValueTensorType) for t in ins):
        raise RunError(f"{path}: @{entry} takes non-tensor arguments, which xjit-run cannot pass")
    n_out = len(fop.function_type.outputs.data)
    spec = (
        OutputSpec("tensor")
        if n_out == 1
        else OutputSpec("tuple", tuple(OutputSpec("tensor") for _ in range(n_out)))
    )
    names = [a.name_hint or f"argument_{i}" for i, a in enumerate(fop.body.block.args)]
    try:
        compiled = CompiledFunction(module, {}, [t.meta for t in ins], names, spec, entry)
    except Exception as e:
        raise RunError(f"{path}: cannot compile @{entry}: {_one_line(str(e))}") from None
    want = [t.meta.dtype.name if t.meta.dtype else "any dtype" for t in ins]
    result = _call(compiled, lambda: _tensors(inputs, paths, want), f"@{entry}")
    # a `!torch.int` result comes back as a Python int, not a tensor
    return [np.asarray(t.numpy() if hasattr(t, "numpy") else t) for t in _leaves(result)]


def _run_loops_mlir(
    path: str, module: Any, entry: str, inputs: list[np.ndarray]
) -> list[np.ndarray]:
    from xdsl.dialects.builtin import IndexType, MemRefType

    # lazy: xjit-run loads only what its input needs (an archive runs without the IR tools)
    from xjit.backends.numpy import compile_module
    from xjit.backends.numpy.dtypes import memref_shape, np_dtype

    fop = _find_func(module, path, entry)
    args: list[Any] = []
    types = fop.function_type.inputs.data
    if len(inputs) != len(types):
        raise RunError(
            f"@{entry} expects {len(types)} inputs, got {len(inputs)} "
            "(pass one --input per argument)"
        )
    for i, (a, t) in enumerate(zip(inputs, types, strict=True)):
        if isinstance(t, MemRefType):
            want_dt, want_shape = np.dtype(np_dtype(t.element_type)), memref_shape(t)
            ok_shape = a.ndim == len(want_shape) and all(
                w is None or w == s for w, s in zip(want_shape, a.shape, strict=True)
            )
            if a.dtype != want_dt:
                raise RunError(f"@{entry} input {i} has dtype {a.dtype}, expected {want_dt}")
            if not ok_shape:
                shape = "[" + ", ".join("?" if d is None else str(d) for d in want_shape) + "]"
                raise RunError(f"@{entry} input {i} has shape {list(a.shape)}, expected {shape}")
            args.append(np.require(a, requirements="C"))  # (keeps a 0-d tensor 0-d)
        else:  # scalars: a 0-d array
            if a.ndim != 0:
                raise RunError(
                    f"@{entry} input {i} must be a 0-d array (a {t} scalar), "
                    f"got shape {list(a.shape)}"
                )
            args.append(int(a) if isinstance(t, IndexType) else a[()])
    try:
        program = compile_module(module)
    except KeyError as e:  # memref.get_global of a global without an initialiser
        raise RunError(
            f"{path}: {_one_line(str(e.args[0] if e.args else e))} "
            "(an .mlir file holds no parameter values)"
        ) from None
    except Exception as e:
        raise RunError(f"{path}: cannot compile: {_one_line(str(e))}") from None
    try:
        outs = program[fop.sym_name.data](*args)
    except Exception as e:
        raise RunError(f"@{entry} failed: {type(e).__name__}: {_one_line(str(e))}") from None
    return [np.asarray(o) for o in outs]


# --------------------------------------------------------------------------------------------
# output


def _print_outputs(outs: list[np.ndarray]) -> None:
    for i, a in enumerate(outs):
        print(f"output {i}: {a.dtype} {list(a.shape)}")
        print(np.array2string(a, threshold=1000))


def _write_npz(path: str, outs: list[np.ndarray]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
        )
    except OSError as e:
        raise RunError(f"cannot write '{path}': {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{f"output_{i}": a for i, a in enumerate(outs)})
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):
            raise RunError(f"cannot write '{path}': {e.strerror}") from None
        raise


def run(argv: Sequence[str] | None = None) -> int:
    args = _arg_parser().parse_args(argv)
    path: str = args.model
    if not os.path.exists(path):
        raise RunError(f"'{path}' not found")
    if os.path.isdir(path):
        raise RunError(f"'{path}' is a directory")
    inputs = _load_inputs(args.input)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if path.endswith(".mlir"):
            module = _method_module(_parse_mlir(path), args.method)
            if _is_torch_level(module):
                outs = _run_torch_mlir(path, module, args.method, inputs, args.input)
            else:
                outs = _run_loops_mlir(path, module, args.method, inputs)
        else:
            outs = _run_archive(path, args.method, inputs, args.input)
    for w in caught:
        print(f"{PROG}: warning: {_one_line(str(w.message))}", file=sys.stderr)
    if args.output:
        _write_npz(args.output, outs)
    else:
        _print_outputs(outs)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status."""
    return console_main(PROG, run, argv, " ")


if __name__ == "__main__":
    sys.exit(main())
