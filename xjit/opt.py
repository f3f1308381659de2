"""`xjit-opt`: xjit's modular optimizer driver, in the style of `mlir-opt` / `xdsl-opt`.

    xjit-opt model.mlir -p 'torch-decompose,canonicalize,cse' -o out.mlir

It is `xdsl-opt` (same flags, same output) with three differences that matter to users:

- dialects and passes come from xDSL's `Multiverse`, which finds xjit through its
  `xdsl.universe` entry point: xjit's dialects and passes are registered exactly once, and stock
  `xdsl-opt` sees the same set;
- errors are diagnostics, never Python tracebacks: `file:line:col: error: message` with the
  source line and a caret, and exit status 1 (`--debug` or `XJIT_DEBUG=1` re-raises instead);
- `--split-input-file` keeps going after a failing chunk (as `mlir-opt` does) and the exit
  status says whether any chunk failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import os
import re
import sys
import time
from collections.abc import Sequence
from io import StringIO
from itertools import accumulate
from typing import IO, NoReturn

from xdsl.dialects.builtin import FileLineColLoc, ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.passes import ModulePass, get_pass_option_infos
from xdsl.printer import Printer
from xdsl.utils.arg_spec import ArgSpec, parse_pipeline
from xdsl.utils.exceptions import (
    ArgSpecParseError,
    DiagnosticException,
    MultipleSpansParseError,
    ParseError,
    VerifyException,
)
from xdsl.utils.lexer import Span
from xdsl.xdsl_opt_main import xDSLOptMain

from xjit.universe import XJIT_UNIVERSE

PROG = "xjit-opt"
# The op name after an optional `%results =` (custom form) or in quotes (generic form).
_OP_NAME = re.compile(r'(?:[^=\n"]*=\s*)?"?([A-Za-z_][\w.$-]*)')
DEBUG_ENV = "XJIT_DEBUG"


def _xjit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xjit")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


class CliError(Exception):
    """An error already worded for the user: printed as `xjit-opt: error: <message>`, exit 1."""


class _ChunkDone(Exception):
    """Ends the processing of one input chunk early: `result` is its output, None if it failed."""

    def __init__(self, result: str | None) -> None:
        super().__init__()
        self.result = result


class _LocatingParser(Parser):
    """The MLIR parser, remembering where each operation starts in the source.

    xDSL attaches a location to an op only when the text spells out `loc(...)`; mlir-opt points
    its verifier errors at the op's source line, so we keep the spans on the side.
    """

    def __init__(self, ctx, text: str, name: str, spans: dict[Operation, Span]) -> None:
        super().__init__(ctx, text, name)
        self._spans = spans

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        try:
            op = super().parse_operation()
        except VerifyException as e:
            # A custom-format parser checks operand/result type constraints while parsing and
            # raises a VerifyException, which has no location: report it as a located error.
            m = _OP_NAME.match(start.input.content, start.start)
            name = f"'{m.group(1)}' op " if m else ""
            point = dataclasses.replace(start, end=start.start + 1)  # one caret, as mlir-opt
            raise ParseError(point, f"{name}{e}") from None
        self._spans[op] = start
        return op

    def parse_module(self, allow_implicit_module: bool = True) -> ModuleOp:
        try:
            return super().parse_module(allow_implicit_module)
        except ParseError as e:
            # xDSL reports undefined SSA values at the end of the file; point at the first use.
            if e.msg.startswith("values used but not defined") and self.forward_ssa_references:
                name, refs = next(iter(self.forward_ssa_references.items()))
                users = [u.operation for v in refs.values() for u in v.uses]
                spans = [self._spans[op] for op in users if op in self._spans]
                if spans:
                    first = min(spans, key=lambda sp: sp.start)
                    raise ParseError(first, f"use of undefined value '%{name}'") from None
            raise


class XjitOptMain(xDSLOptMain):
    """`xdsl-opt` with diagnostics instead of tracebacks; see the module docstring."""

    version_format = f"{PROG} {_xjit_version()} (built on xdsl {{xdsl_version}})"

    def __init__(self, args: Sequence[str] | None = None) -> None:
        # Filled per chunk: where each parsed op starts, and the chunk's first line in the file.
        self._spans: dict[Operation, Span] = {}
        self._line_offset = 0
        self._timings: list[tuple[str, float]] = []
        super().__init__(description="xjit modular optimizer driver", args=args)
        self.debug: bool = self.args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0")

    # ------------------------------------------------------------------ registration

    def register_all_dialects(self) -> None:
        # The Multiverse (entry points) is the single place xjit's dialects come from. Only if
        # xjit runs from a tree that was never pip-installed is its universe missing: add it
        # then, so the tool still works, and never twice.
        super().register_all_dialects()

        known = set(self.ctx.registered_dialect_names)
        for name, factory in XJIT_UNIVERSE.all_dialects.items():
            if name not in known:
                self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()

        for name, factory in XJIT_UNIVERSE.all_passes.items():
            self.available_passes.setdefault(name, factory)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.prog = PROG
        super().register_all_arguments(arg_parser)
        # mlir-opt's spellings of the same switches, so muscle memory works.
        arg_parser.add_argument(
            "--mlir-print-ir-after-all",
            dest="print_between_passes",
            action="store_true",
            help="alias of --print-between-passes",
        )
        arg_parser.add_argument(
            "--mlir-timing",
            dest="time_passes",
            action="store_true",
            help="alias of --time-passes",
        )
        arg_parser.add_argument(
            "--list-passes",
            action="store_true",
            help="list the available passes (xjit's and upstream xDSL's) and exit",
        )
        arg_parser.add_argument(
            "--fusion-report",
            action="store_true",
            help="after the passes, print to stderr which torch ops each loop nest computes "
            "and why the others did not fuse (linalg-fuse-elementwise's decisions)",
        )
        arg_parser.add_argument(
            "--debug",
            action="store_true",
            help=f"show Python tracebacks instead of diagnostics (also: {DEBUG_ENV}=1)",
        )

    # ------------------------------------------------------------------ pipeline

    def setup_pipeline(self) -> None:
        """Resolve `-p` into pass instances, with user-facing errors for every way it can fail."""
        try:
            specs = list(parse_pipeline(self.args.passes))
        except ArgSpecParseError as e:  # a BaseException in xDSL: catch it by name
            # Its text is "Error parsing...\n<loc>\n<pipeline>\n<carets>\n<message>".
            lines = str(e).splitlines()
            if len(lines) >= 5:
                detail = f"{lines[4].strip()}\n{lines[2]}\n{lines[3]}"
            else:
                detail = str(e)
            raise CliError(f"invalid pass pipeline: {detail}") from None
        self.passes: list[tuple[ArgSpec, ModulePass]] = []
        for spec in specs:
            self.passes.append((spec, self._instantiate(spec)))

    def _instantiate(self, spec: ArgSpec) -> ModulePass:
        if spec.name not in self.available_passes:
            close = difflib.get_close_matches(spec.name, list(self.available_passes), n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise CliError(f"unknown pass '{spec.name}'{hint}; see --list-passes")
        try:
            cls = self.available_passes[spec.name]()
        except Exception as e:  # the pass module is missing or broken: say which pass
            if self.args.debug or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                raise
            raise CliError(f"pass '{spec.name}' could not be loaded: {e}") from None
        infos = get_pass_option_infos(cls)
        options = ", ".join(f"{o.name.replace('_', '-')}: {o.expected_type}" for o in infos)
        hint = f"(options: {options or 'none'})"
        known = {o.name for o in infos}
        for key in spec.parameters:
            if key.replace("-", "_") not in known:
                raise CliError(f"unknown option '{key}' for pass '{spec.name}' {hint}")
        try:
            return cls.from_pass_spec(spec)
        except (ValueError, TypeError) as e:
            raise CliError(f"invalid options for pass '{spec.name}': {e} {hint}") from None

    # ------------------------------------------------------------------ driver

    def get_input_stream(self) -> tuple[IO[bytes], str]:
        name = self.args.input_file
        if name is None or name == "-":
            return sys.stdin.buffer, "mlir"
        try:
            f = open(name, "rb")
        except OSError as e:
            raise CliError(f"cannot open input file '{name}': {e.strerror}") from None
        ext = os.path.splitext(name)[1].lstrip(".")
        # Anything that is not a registered frontend's extension is read as MLIR text.
        return f, ext if ext in self.available_frontends else "mlir"

    def get_input_name(self) -> str:
        name = self.args.input_file
        return "<stdin>" if name is None or name == "-" else name

    def run(self) -> int:
        """Process every chunk; return the exit status (0 only if every chunk succeeded)."""
        f, _ = self.get_input_stream()
        with f:
            data = f.read()
        chunks = [(data, 0)]
        if self.args.split_input_file:
            pieces = data.split(b"// -----")
            offsets = accumulate([0, *[p.count(b"\n") for p in pieces[:-1]]])
            chunks = list(zip(pieces, offsets, strict=True))

        out = StringIO()
        # xdsl-opt prints --verify-diagnostics output to stdout; keep it in order with the IR.
        self._diag_out: IO[str] = out if self.args.output_file is None else sys.stdout
        failed = False
        for i, (chunk, offset) in enumerate(chunks):
            if i > 0:
                out.write("// -----\n")
            try:
                result = self._process_chunk(chunk, offset)
            except _ChunkDone as done:
                result = done.result
            if result is None:
                failed = True
            else:
                out.write(result)
        if self.args.time_passes:
            self._print_timings()
        if self.args.output_file is None:
            sys.stdout.write(out.getvalue())
        elif not failed:  # like mlir-opt: no output file from a failed run
            try:
                with open(self.args.output_file, "w") as o:
                    o.write(out.getvalue())
            except OSError as e:
                raise CliError(
                    f"cannot write output file '{self.args.output_file}': {e.strerror}"
                ) from None
        return 1 if failed else 0

    def _process_chunk(self, chunk: bytes, offset: int) -> str | None:
        """Parse, verify, transform and print one chunk; None (diagnostics printed) on failure."""
        self._spans = {}
        self._line_offset = offset
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            self._error(f"{self.get_input_name()}: error: input is not valid UTF-8 ({e.reason})")
            return None

        t0 = time.perf_counter()
        try:
            parser = _LocatingParser(self.ctx, text, self.get_input_name(), self._spans)
            module = parser.parse_module(not self.args.no_implicit_module)
        except ParseError as e:
            if self.debug:
                raise
            e.span = dataclasses.replace(e.span, line_offset=offset)
            if self.args.parsing_diagnostics:  # xdsl-opt's contract: print it, succeed
                print(e, file=self._diag_out)
                return ""
            self._error(self._format_parse_error(e))
            return None
        self._timings.append(("parser", time.perf_counter() - t0))

        self._verify(module, after=None)
        fusion_log = None
        if self.args.fusion_report:
            # lazy: the fusion log and report load only with --fusion-report
            from xjit.passes.linalg_fuse_elementwise import start_fusion_log

            fusion_log = start_fusion_log()
        for spec, p in self.passes:
            t0 = time.perf_counter()
            try:
                p.apply(self.ctx, module)
            except Exception as e:
                if self.debug:
                    raise
                if isinstance(e, DiagnosticException) and self.args.verify_diagnostics:
                    self._print_expected_diagnostic(e)
                    return ""
                msg = str(e) if isinstance(e, DiagnosticException) else f"{type(e).__name__}: {e}"
                self._error(
                    f"{self.get_input_name()}: error: pass '{spec}' failed: {msg}\n"
                    f"(rerun with --debug or {DEBUG_ENV}=1 for the Python traceback)"
                )
                return None
            self._timings.append((str(spec), time.perf_counter() - t0))
            self._verify(module, after=str(spec))
            if self.args.print_between_passes:
                # mlir-opt's format, on stderr so that stdout stays one valid module.
                print(f"// -----// IR Dump After {spec} //----- //", file=sys.stderr)
                print(self._print_ir(module), file=sys.stderr)

        if fusion_log is not None:
            # lazy: the fusion log and report load only with --fusion-report
            from xjit.passes.fusion_report import fusion_report

            print(fusion_report(module, fusion_log), end="", file=sys.stderr)
        t0 = time.perf_counter()
        try:
            result = self.output_resulting_program(module)
        except DiagnosticException as e:  # a target refusing its input (e.g. -t numpy)
            if self.debug:
                raise
            self._error(f"{self.get_input_name()}: error: target '{self.args.target}': {e}")
            return None
        self._timings.append(("output", time.perf_counter() - t0))
        return result

    def _verify(self, module: ModuleOp, after: str | None) -> None:
        """Verify `module`; on failure print a located diagnostic and end the chunk."""
        if self.args.disable_verify:
            return
        t0 = time.perf_counter()
        try:
            module.verify()
        except Exception as e:
            if self.debug:
                raise
            if isinstance(e, DiagnosticException) and self.args.verify_diagnostics:
                self._print_expected_diagnostic(e)
                raise _ChunkDone("") from None
            self._error(self._format_verify_error(module, e, after))
            raise _ChunkDone(None) from None
        finally:
            self._timings.append(("verifier", time.perf_counter() - t0))

    def _print_expected_diagnostic(self, e: Exception) -> None:
        # Exactly what xdsl-opt --verify-diagnostics prints, so tests written for it still pass.
        print(e, file=self._diag_out)
        for note in getattr(e, "__notes__", []):
            print(note, file=self._diag_out)

    # ------------------------------------------------------------------ diagnostics

    def _error(self, text: str) -> None:
        print(text, file=sys.stderr)

    def _caret_lines(self, span: Span) -> str:
        """The source line of `span` and carets under it (mlir-opt's diagnostic body)."""
        body = span.print_with_context().splitlines()
        # print_with_context gives "loc", then (line, carets) pairs: keep the first pair.
        return "\n".join(body[1:3])

    def _format_parse_error(self, e: ParseError) -> str:
        text = f"{e.span.get_location()}: error: {e.msg}\n{self._caret_lines(e.span)}"
        if e.msg.endswith("is not registered") and not self.args.allow_unregistered_dialect:
            text += "\nnote: pass --allow-unregistered-dialect to accept unregistered ops"
        if isinstance(e, MultipleSpansParseError):
            for span, msg in e.refs:
                span = dataclasses.replace(span, line_offset=self._line_offset)
                text += f"\n{span.get_location()}: note: {msg or ''}\n{self._caret_lines(span)}"
        return text

    def _format_verify_error(self, module: ModuleOp, e: Exception, after: str | None) -> str:
        # The exception does not say which op failed: re-verify op by op to find it.
        culprit, error = self._find_invalid_op(module) or (None, e)
        msg = str(error).removeprefix("Operation does not verify: ")
        stage = f" (after pass '{after}')" if after else ""
        if culprit is None:
            return f"{self.get_input_name()}: error: module does not verify{stage}: {msg}"
        where, source = self._locate(culprit)
        text = f"{where}: error: '{culprit.name}' op {msg}{stage}"
        return f"{text}\n{source}" if source else text

    @staticmethod
    def _find_invalid_op(module: ModuleOp) -> tuple[Operation, Exception] | None:
        for op in module.walk():
            try:
                op.verify(verify_nested_ops=False)
            except Exception as e:
                return op, e
        return None

    def _locate(self, op: Operation) -> tuple[str, str]:
        """`file:line:col` of `op` (or of its nearest located ancestor) and its source lines."""
        cur: Operation | None = op
        while cur is not None:
            if cur in self._spans:
                span = dataclasses.replace(self._spans[cur], line_offset=self._line_offset)
                # One caret at the op's start, as mlir-opt does.
                point = dataclasses.replace(span, end=span.start + 1)
                return str(span.get_location()), self._caret_lines(point)
            if isinstance(cur.location, FileLineColLoc):
                loc = cur.location
                return f"{loc.filename.data}:{loc.line.data}:{loc.column.data}", ""
            cur = cur.parent_op()
        return self.get_input_name(), ""

    def _print_ir(self, module: ModuleOp) -> str:
        s = StringIO()
        Printer(stream=s, print_generic_format=self.args.print_op_generic).print_op(module)
        return s.getvalue()

    def _print_timings(self) -> None:
        # Summed over chunks, in first-seen order: the shape of mlir-opt's --mlir-timing report.
        totals: dict[str, float] = {}
        for name, t in self._timings:
            totals[name] = totals.get(name, 0.0) + t
        total = sum(totals.values()) or 1e-12
        err = sys.stderr
        print("===" + "-" * 73 + "===", file=err)
        print(" " * 26 + "... Execution time report ...", file=err)
        print("===" + "-" * 73 + "===", file=err)
        print(f"  Total Execution Time: {total:.4f} seconds\n", file=err)
        print("  ----Wall Time----  ----Name----", file=err)
        for name, t in totals.items():
            print(f"  {t:9.4f} ({100 * t / total:5.1f}%)  {name}", file=err)
        print(f"  {total:9.4f} (100.0%)  Total", file=err)

    def list_passes(self) -> str:
        """One line per pass: name and the first line of its docstring."""
        lines = []
        width = max(map(len, self.available_passes), default=0)
        for name in sorted(self.available_passes):
            try:
                cls = self.available_passes[name]()
                doc = (cls.__doc__ or "").strip()
                # @dataclass makes up "Cls(field: type)" when there is no docstring: skip it.
                summary = (
                    "" if not doc or doc.startswith(f"{cls.__name__}(") else doc.splitlines()[0]
                )
            except Exception as e:  # one broken/missing pass must not hide the others
                summary = f"(unavailable: {e})"
            lines.append(f"  {name:<{width}}  {summary}")
        return "available passes:\n" + "\n".join(lines) + "\n"


def _fail(message: str) -> NoReturn:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(1)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the process exit status (also used by `sys.exit`)."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0") or "--debug" in (
        argv if argv is not None else sys.argv[1:]
    )
    try:
        tool = XjitOptMain(argv)
        if tool.args.list_passes:
            sys.stdout.write(tool.list_passes())
            return 0
        return tool.run()
    except CliError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `xjit-opt ... | head`: not an error worth a traceback
        return 1
    except Exception as e:
        if debug:
            raise
        # A bug in xjit-opt or xDSL itself: still no traceback by default, but say how to get it.
        _fail(
            f"internal error: {type(e).__name__}: {e}\n"
            f"(rerun with --debug or {DEBUG_ENV}=1 for the Python traceback)"
        )


if __name__ == "__main__":
    sys.exit(main())
