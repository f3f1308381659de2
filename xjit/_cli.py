"""What xjit's console tools (`xjit-run`, `xjit-import`) share: one-line errors worded for the
user, an argparse parser that reports usage errors that way, and the `main` wrapper that turns
any other exception into a one-line "internal error" (the traceback only with XJIT_DEBUG=1)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

DEBUG_ENV = "XJIT_DEBUG"


class ToolError(Exception):
    """An error worded for the user: `<prog>: error: <message>`, exit status 1."""


def one_line(text: str, join: str = "; ") -> str:
    """A multi-line message as one line: lines joined by `join` (after a line ending in `:`, a
    space), so listings such as the unsupported ops stay readable."""
    out = ""
    for line in (x.strip() for x in str(text).splitlines()):
        if line:
            out += ("" if not out else " " if out.endswith(":") else join) + line
    return out


def parser(prog: str, error: type[ToolError], description: str) -> argparse.ArgumentParser:
    """An ArgumentParser whose usage errors raise `error` (one line) instead of exiting 2."""

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise error(f"{message} (see {prog} --help)")

    return _Parser(prog=prog, description=description)


def console_main(
    prog: str,
    run: Callable[[Sequence[str] | None], int],
    argv: Sequence[str] | None,
    join: str = "; ",
) -> int:
    """Run a tool; returns its exit status. ToolErrors are one-line errors; anything else is
    an internal error, re-raised with XJIT_DEBUG=1 for its traceback."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        return run(argv)
    except ToolError as e:
        print(f"{prog}: error: {one_line(str(e), join)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:
        if debug:
            raise
        print(
            f"{prog}: internal error: {type(e).__name__}: {one_line(str(e), join)} "
            f"(rerun with {DEBUG_ENV}=1 for the Python traceback)",
            file=sys.stderr,
        )
        return 1
