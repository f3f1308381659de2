"""`xjit-import`: turn a program saved with `torch.export.save` into an `.xjit` archive.

    xjit-import model.pt2 -o model.xjit

Needs PyTorch (to read the `.pt2` file); the archive it writes runs without it (`xjit-run`,
`xjit.jit.load`). Every error is one line on stderr and exit status 1 (set XJIT_DEBUG=1 for the
Python traceback). See docs/import.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import NoReturn

PROG = "xjit-import"
DEBUG_ENV = "XJIT_DEBUG"


class ImportCliError(Exception):
    """An error worded for the user: `xjit-import: error: <message>`, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 with usage; we say one line
        raise ImportCliError(f"{message} (see {PROG} --help)")


def _one_line(text: str) -> str:
    """A multi-line message (the listing of unsupported ops) as one line: items joined by `; `."""
    out = ""
    for line in (x.strip() for x in str(text).splitlines()):
        if line:
            out += ("" if not out else " " if out.endswith(":") else "; ") + line
    return out


def _arg_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Import a torch.export program (.pt2, from torch.export.save) as an .xjit archive.",
    )
    p.add_argument("program", help="a .pt2 file written by torch.export.save")
    p.add_argument(
        "-o", "--output", required=True, metavar="FILE.xjit", help="the archive to write"
    )
    return p


def run(argv: Sequence[str] | None = None) -> int:
    with warnings.catch_warnings():  # torch's deprecation notices are not the user's concern
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    args = _arg_parser().parse_args(argv)
    if not os.path.isfile(args.program):
        raise ImportCliError(f"{args.program}: no such file")
    try:
        import torch
    except ImportError:
        raise ImportCliError("PyTorch is not installed (pip install xjit[torch])") from None
    # lazy: the importer needs torch, checked just above with a clear message
    from xjit.jit.imported import TorchImportError, from_torch

    log = logging.getLogger("torch.export")  # logs a traceback before raising: one line only
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        ep = torch.export.load(args.program)
    except Exception as e:
        raise ImportCliError(
            f"{args.program}: not a torch.export program: {type(e).__name__}: {e}"
        ) from None
    finally:
        log.setLevel(level)
    try:
        module = from_torch(ep)
    except TorchImportError as e:
        raise ImportCliError(f"{args.program}: {e}") from None
    module.save(args.output)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit status."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        return run(argv)
    except ImportCliError as e:
        print(f"{PROG}: error: {_one_line(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if debug:
            raise
        print(
            f"{PROG}: internal error: {type(e).__name__}: {_one_line(str(e))} "
            f"(rerun with {DEBUG_ENV}=1 for the Python traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
