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

from xjit._cli import ToolError, console_main, one_line, parser

PROG = "xjit-import"


class ImportCliError(ToolError):
    """An error worded for the user: `xjit-import: error: <message>`, exit status 1."""


def _one_line(text: str) -> str:
    return one_line(text, "; ")


def _arg_parser() -> argparse.ArgumentParser:
    p = parser(
        PROG,
        ImportCliError,
        "Import a torch.export program (.pt2, from torch.export.save) as an .xjit archive.",
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
    return console_main(PROG, run, argv, "; ")


if __name__ == "__main__":
    sys.exit(main())
