"""`xjit-opt`: xjit's modular optimizer driver, in the style of `mlir-opt` / `xdsl-opt`.

    xjit-opt model.mlir -p 'torch-decompose,canonicalize,cse' -o out.mlir

It is `xdsl-opt` (same flags, same output) with three differences that matter to users:

- dialects and passes come from xDSL's `Multiverse`, which finds xjit through its
  `xdsl.universe` entry point: xjit's dialects and passes are registered exactly once, and stock
  `xdsl-opt` sees the same set;
- errors are diagnostics, never Python tracebacks: `file:line:col: error: message` with the
  source line and a caret, and exit status 1 (`--debug` or `XJIT_DEBUG=1` re-raises instead);
- `--split-input-file` keeps going after a failing chunk (as `mlir-opt` does) and the exit
  status says whether any chunk failed;
- `--verify-diagnostics` has `mlir-opt`'s meaning: `// expected-error {{...}}` annotations must
  match the diagnostics exactly (xdsl-opt only prints the first error and succeeds);
- input text is screened (xjit/_irtext.py) and the verifier checks SSA dominance.
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

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass, get_pass_option_infos
from xdsl.printer import Printer
from xdsl.utils.arg_spec import ArgSpec, parse_pipeline
from xdsl.utils.exceptions import (
    ArgSpecParseError,
    DiagnosticException,
    MultipleSpansParseError,
    ParseError,
)
from xdsl.utils.lexer import Span
from xdsl.xdsl_opt_main import xDSLOptMain

from xjit._irtext import InvalidOp, locate, parse_module_text, verify_module
from xjit.dialects import load_arith_extensions
from xjit.universe import XJIT_UNIVERSE

PROG = "xjit-opt"
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


@dataclasses.dataclass
class _Diag:
    """A diagnostic of one chunk, for --verify-diagnostics: its kind, whole-file line (None if
    it has no location) and message."""

    kind: str
    line: int | None
    message: str


# `// expected-error {{text}}`, `// expected-note@+1 {{text}}`, `@-2`, `@above`, `@below`,
# `@unknown` (a diagnostic without a location): mlir-opt's --verify-diagnostics annotations.
_EXPECTED = re.compile(
    r"expected-(?P<kind>error|warning|note|remark)"
    r"(?:@(?P<at>[+-]\d+|above|below|unknown))?\s*(?P<body>\{\{.*?\}\}|.*)"
)


@dataclasses.dataclass
class _Expectation:
    kind: str
    line: int | None  # where the diagnostic must be (None: @unknown)
    source_line: int  # where the comment is
    text: str
    problem: str = ""  # a malformed annotation

    def matches(self, d: _Diag) -> bool:
        return d.kind == self.kind and d.line == self.line and self.text in d.message


def _expectations(text: str, offset: int) -> list[_Expectation]:
    out = []
    for i, line in enumerate(text.splitlines()):
        comment = line.find("//")
        if comment < 0:
            continue
        for m in _EXPECTED.finditer(line, comment):
            here = offset + i + 1
            at, body = m.group("at"), m.group("body")
            target: int | None = here
            if at == "unknown":
                target = None
            elif at in ("above", "below"):
                target = here - 1 if at == "above" else here + 1
            elif at:
                target = here + int(at)
            if not (body.startswith("{{") and body.endswith("}}")):
                problem = f"expected-{m.group('kind')} needs its message as {{{{text}}}}"
                out.append(_Expectation(m.group("kind"), target, here, "", problem))
                continue
            out.append(_Expectation(m.group("kind"), target, here, body[2:-2]))
    return out


# How pass errors name an op kind: "op 'torch.global_slot' is outside ...", "'linalg.fill' on
# tensors; run `bufferize` first" (a quoted dialect.op name).
_NAMED_OP = re.compile(r"\bop '([A-Za-z_][\w.$-]*)'|'([A-Za-z_][\w$-]*\.[\w.$-]+)'")


def _line_of(location: str) -> int | None:
    """The line of a `file:line:col` string (None for a bare file name)."""
    parts = location.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


class XjitOptMain(xDSLOptMain):
    """`xdsl-opt` with diagnostics instead of tracebacks; see the module docstring."""

    version_format = f"{PROG} {_xjit_version()} (built on xdsl {{xdsl_version}})"

    def __init__(self, args: Sequence[str] | None = None) -> None:
        # Filled per chunk: where each parsed op starts, and the chunk's first line in the file.
        self._spans: dict[Operation, Span] = {}
        self._line_offset = 0
        self._diags: list[_Diag] = []
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
        load_arith_extensions(self.ctx)  # arith.remf parses as the pipeline prints it

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
            "--format",
            choices=("text", "dot"),
            default="text",
            help="the format of --fusion-report: text (default) or Graphviz dot (nests as "
            "clusters of torch ops, data flow as edges)",
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
        # xdsl-opt prints --parsing-diagnostics output to stdout; keep it in order with the IR.
        self._diag_out: IO[str] = out if self.args.output_file is None else sys.stdout
        failed = False
        for i, (chunk, offset) in enumerate(chunks):
            if i > 0:
                out.write("// -----\n")
            self._diags = []
            try:
                result = self._process_chunk(chunk, offset)
            except _ChunkDone as done:
                result = done.result
            if self.args.verify_diagnostics:
                mismatches = self._check_expected(chunk, offset)
                for m in mismatches:
                    self._error(m)
                # A chunk whose diagnostics were all expected succeeds, with no output.
                result = None if mismatches else (result or "")
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
        name = self.get_input_name()
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            msg = f"input is not valid UTF-8 ({e.reason})"
            self._diagnose(None, msg, f"{name}: error: {msg}")
            return None

        t0 = time.perf_counter()
        try:
            module = parse_module_text(
                self.ctx, text, name, self._spans, not self.args.no_implicit_module
            )
        except ParseError as e:
            if self.debug:
                raise
            e.span = dataclasses.replace(e.span, line_offset=offset)
            if self.args.parsing_diagnostics:  # xdsl-opt's contract: print it, succeed
                print(e, file=self._diag_out)
                return ""
            self._diagnose(e.span.get_location().line, e.msg, self._format_parse_error(e))
            if isinstance(e, MultipleSpansParseError):
                for span, msg in e.refs:
                    line = dataclasses.replace(span, line_offset=offset).get_location().line
                    self._diags.append(_Diag("note", line, msg or ""))
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
                msg = str(e) if isinstance(e, DiagnosticException) else f"{type(e).__name__}: {e}"
                where, point = self._locate_named_op(module, msg, getattr(e, "op", None))
                text = f"{where}: error: pass '{spec}' failed: {msg}"
                if point is not None:
                    text += "\n" + self._caret_lines(point)
                self._diagnose(
                    point.get_location().line if point is not None else None,
                    f"pass '{spec}' failed: {msg}",
                    f"{text}\n(rerun with --debug or {DEBUG_ENV}=1 for the Python traceback)",
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
            from xjit.passes.fusion_report import fusion_dot, fusion_report

            if self.args.format == "dot":
                print(fusion_dot(module), end="", file=sys.stderr)
            else:
                print(fusion_report(module, fusion_log), end="", file=sys.stderr)
        t0 = time.perf_counter()
        try:
            result = self.output_resulting_program(module)
        except DiagnosticException as e:  # a target refusing its input (e.g. -t numpy)
            if self.debug:
                raise
            msg = f"target '{self.args.target}': {e}"
            self._diagnose(None, msg, f"{name}: error: {msg}")
            return None
        self._timings.append(("output", time.perf_counter() - t0))
        return result

    def _verify(self, module: ModuleOp, after: str | None) -> None:
        """Verify `module`; on failure print a located diagnostic and end the chunk."""
        if self.args.disable_verify:
            return
        t0 = time.perf_counter()
        try:
            verify_module(module)
        except InvalidOp as e:
            if self.debug:
                raise
            stage = f" (after pass '{after}')" if after else ""
            what = f"'{e.op.name}' op " if e.op is not None else "module does not verify: "
            where, point = locate(e.op, self._spans, self.get_input_name(), self._line_offset)
            text = f"{where}: error: {what}{e.message}{stage}"
            if point is not None:
                text += "\n" + self._caret_lines(point)
            line = point.get_location().line if point is not None else _line_of(where)
            self._diagnose(line, f"{what}{e.message}{stage}", text)
            raise _ChunkDone(None) from None
        finally:
            self._timings.append(("verifier", time.perf_counter() - t0))

    def _locate_named_op(
        self, module: ModuleOp, msg: str, failed: Operation | None = None
    ) -> tuple[str, Span | None]:
        """Where a pass failed: at the op its exception carries (`OpLoweringError.op`) when that
        op is from the input; else, when its message names an op kind (`op 'x.y'`, `'x.y'`), at
        the first such op of the input that is still in the module."""
        if failed is not None and failed in self._spans:
            return locate(failed, self._spans, self.get_input_name(), self._line_offset)
        for m in _NAMED_OP.finditer(msg):
            kind = m.group(1) or m.group(2)
            for op in module.walk():
                if op.name == kind and op in self._spans:
                    return locate(op, self._spans, self.get_input_name(), self._line_offset)
        typed = self._op_with_named_type(module, msg)
        if typed is not None:
            return locate(typed, self._spans, self.get_input_name(), self._line_offset)
        return self.get_input_name(), None

    def _op_with_named_type(self, module: ModuleOp, msg: str) -> Operation | None:
        """The first op of the input that defines a value of a dialect type the message names
        ("cannot lower !torch.vtensor<*,f32>: ..."): a type conversion carries no op."""
        for op in module.walk():
            if op not in self._spans:
                continue
            args = [a for r in op.regions for b in r.blocks for a in b.args]
            for v in (*op.results, *args):
                t = str(v.type)
                i = msg.find(t)
                if t.startswith("!") and i >= 0 and msg[i + len(t) : i + len(t) + 1] != "<":
                    return op
        return None

    # ------------------------------------------------------------------ diagnostics

    def _error(self, text: str) -> None:
        print(text, file=sys.stderr)

    def _diagnose(self, line: int | None, message: str, text: str) -> None:
        """Report an error: printed (`text`), or kept for --verify-diagnostics to check."""
        if self.args.verify_diagnostics:
            self._diags.append(_Diag("error", line, message))
        else:
            self._error(text)

    def _check_expected(self, chunk: bytes, offset: int) -> list[str]:
        """mlir-opt's --verify-diagnostics: each `expected-*` comment must match a diagnostic
        of its kind at its line whose message contains its text, and each diagnostic an
        expectation. Returns one message per mismatch, in line order."""
        name = self.get_input_name()
        text = chunk.decode("utf-8", errors="replace")
        expected = _expectations(text, offset)
        problems = [(e.source_line, f"{e.problem}") for e in expected if e.problem]
        expected = [e for e in expected if not e.problem]
        for d in self._diags:
            hit = next((e for e in expected if e.matches(d)), None)
            if hit is not None:
                expected.remove(hit)
            else:
                problems.append((d.line or 0, f"unexpected {d.kind}: {d.message}"))
        for e in expected:
            at = "unknown location" if e.line is None else f"line {e.line}"
            msg = f'expected {e.kind} "{e.text}" was not produced (at {at})'
            problems.append((e.source_line, msg))
        problems.sort(key=lambda p: p[0])
        return [
            f"{name}:{line}: error: {msg}" if line else f"{name}: error: {msg}"
            for line, msg in problems
        ]

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
                note = msg or (e.ref_text or "").rstrip(":")  # "originally declared here"
                text += f"\n{span.get_location()}: note: {note}\n{self._caret_lines(span)}"
        return text

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
