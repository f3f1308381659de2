"""`xjit-opt` as users run it: a subprocess, checked for exit status and for clean diagnostics.

The error paths that need a misbehaving pass run in-process (`main(argv)`), with a throwaway pass
added to xjit's universe for the duration of the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from xjit.opt import main

GOOD = """\
func.func @f(%m: memref<4xf32>, %n: index) {
  loop.nest (%i) to (%n) ["parallel"] {
    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
    loop.store %a, %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}
"""

# Parses, but the nest has one bound and two iterator kinds.
INVALID = GOOD.replace('["parallel"]', '["parallel", "reduction"]')

FOLDABLE = """\
func.func @f() -> i32 {
  %0 = arith.constant 1 : i32
  %1 = arith.constant 2 : i32
  %2 = arith.addi %0, %1 : i32
  func.return %2 : i32
}
"""


def _command() -> list[str]:
    # The console script of this interpreter's environment; `python -m` if it is not installed.
    script = shutil.which("xjit-opt", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "xjit.opt"]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XJIT_DEBUG"}
    return subprocess.run(
        [*_command(), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout


@pytest.fixture
def write(tmp_path: Path):
    def write(text: str, name: str = "in.mlir") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def test_good_input_round_trips(write) -> None:
    proc = run(write(GOOD))
    assert proc.returncode == 0, proc.stderr
    assert 'loop.nest (%i) to (%n) ["parallel"]' in proc.stdout
    assert proc.stderr == ""


def test_stdin_and_pipeline(write) -> None:
    proc = run("-p", "canonicalize,cse", stdin=FOLDABLE)
    assert proc.returncode == 0, proc.stderr
    assert "arith.constant 3 : i32" in proc.stdout
    assert "arith.addi" not in proc.stdout


def test_output_file(write, tmp_path: Path) -> None:
    out = tmp_path / "out.mlir"
    proc = run(write(FOLDABLE), "-p", "canonicalize", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "arith.constant 3 : i32" in out.read_text()


def test_print_op_generic(write) -> None:
    proc = run(write(GOOD), "--print-op-generic")
    assert proc.returncode == 0, proc.stderr
    assert '"loop.nest"(%n) <{iterators = ["parallel"]}>' in proc.stdout


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("xjit-opt ")


def test_parse_error_is_one_located_diagnostic(write) -> None:
    path = write("func.func @f() {\n  %0 = arith.constant : i32\n  func.return\n}\n")
    proc = run(path)
    assert_clean_failure(proc)
    first, source, caret = proc.stderr.splitlines()[:3]
    assert first.startswith(f"{path}:2:")
    assert ": error: " in first
    assert source == "  %0 = arith.constant : i32"
    assert caret.strip().startswith("^")


def test_verifier_error_names_op_and_location(write) -> None:
    path = write(INVALID)
    proc = run(path)
    assert_clean_failure(proc)
    assert proc.stderr.startswith(
        f"{path}:2:3: error: 'loop.nest' op expected 1 iterator kinds (one per bound), got 2"
    )
    assert proc.stdout == ""


# INVALID with mlir-opt's annotation of the error it must produce (the nest is on line 3).
EXPECTING = "// expected-error@+2 {{expected 1 iterator kinds (one per bound), got 2}}\n" + INVALID


def test_verify_diagnostics_accepts_expected_error(write) -> None:
    proc = run(write(EXPECTING), "--verify-diagnostics")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_verify_diagnostics_rejects_unexpected_error(write) -> None:
    path = write(INVALID)
    proc = run(path, "--verify-diagnostics")
    assert_clean_failure(proc)
    assert f"{path}:2: error: unexpected error: 'loop.nest' op expected 1 iterator" in proc.stderr


def test_verify_diagnostics_rejects_changed_message(write) -> None:
    path = write(EXPECTING.replace("got 2", "got 3"))
    proc = run(path, "--verify-diagnostics")
    assert_clean_failure(proc)
    assert (
        f'{path}:1: error: expected error "expected 1 iterator kinds (one per bound), got 3"'
        in (proc.stderr)
    )
    assert "was not produced" in proc.stderr
    assert "unexpected error: 'loop.nest' op expected 1 iterator kinds" in proc.stderr


def test_verify_diagnostics_rejects_wrong_line(write) -> None:
    proc = run(write(EXPECTING.replace("@+2", "@+1")), "--verify-diagnostics")
    assert_clean_failure(proc)
    assert "was not produced (at line 2)" in proc.stderr


def test_verify_diagnostics_rejects_valid_ir(write) -> None:
    path = write(EXPECTING.replace(INVALID, GOOD))
    proc = run(path, "--verify-diagnostics")
    assert_clean_failure(proc)
    assert f"{path}:1: error: expected error" in proc.stderr


def test_verify_diagnostics_split_input_file_lines_are_file_lines(write) -> None:
    # The second chunk's annotation is on file line 9, its nest on line 11.
    text = f"{GOOD}// -----\n{EXPECTING}"
    assert text.splitlines()[10].lstrip().startswith("loop.nest")
    assert run(write(text), "--verify-diagnostics", "--split-input-file").returncode == 0
    proc = run(write(text.replace("@+2", "@+3")), "--verify-diagnostics", "--split-input-file")
    assert_clean_failure(proc)
    assert ":9: error: expected error" in proc.stderr
    assert "(at line 12)" in proc.stderr
    assert ":11: error: unexpected error" in proc.stderr


def test_verify_diagnostics_parse_error_can_be_expected(write) -> None:
    text = (
        'func.func @f() {\n  // expected-error@+1 {{unterminated string literal}}\n  %0 = "abc\n}\n'
    )
    assert run(write(text), "--verify-diagnostics").returncode == 0
    proc = run(write(text.replace("unterminated", "untermin8ed")), "--verify-diagnostics")
    assert_clean_failure(proc)


def test_split_input_file_reports_every_chunk(write) -> None:
    path = write(f"{GOOD}// -----\n{INVALID}// -----\n{FOLDABLE}")
    proc = run(path, "--split-input-file")
    assert_clean_failure(proc)
    # The bad chunk starts on line 9 of the file: its nest is on line 10.
    assert f"{path}:10:3: error: 'loop.nest' op" in proc.stderr
    assert proc.stdout.count("// -----") == 2
    assert "func.return %2 : i32" in proc.stdout  # the chunk after the bad one still ran


def test_unknown_pass_lists_close_matches(write) -> None:
    proc = run(write(GOOD), "-p", "canonicalise")
    assert_clean_failure(proc)
    assert proc.stderr.startswith("xjit-opt: error: unknown pass 'canonicalise'")
    assert "'canonicalize'" in proc.stderr


def test_bad_pass_option(write) -> None:
    proc = run(write(GOOD), "-p", "canonicalize{bogus=1}")
    assert_clean_failure(proc)
    assert "unknown option 'bogus' for pass 'canonicalize'" in proc.stderr


def test_malformed_pipeline(write) -> None:
    proc = run(write(GOOD), "-p", "canonicalize{")
    assert_clean_failure(proc)
    assert proc.stderr.startswith("xjit-opt: error: invalid pass pipeline")


def test_missing_input_file(tmp_path: Path) -> None:
    proc = run(str(tmp_path / "nope.mlir"))
    assert_clean_failure(proc)
    assert proc.stderr.strip().count("\n") == 0
    assert "cannot open input file" in proc.stderr


def test_xjit_passes_are_registered(write) -> None:
    # Every xjit pass name is known to the driver (loading it may fail while it is being written).
    from xjit.passes import XJIT_PASSES

    proc = run("--list-passes")
    assert proc.returncode == 0, proc.stderr
    for name in XJIT_PASSES:
        assert f"  {name} " in proc.stdout
    assert "  canonicalize " in proc.stdout


def test_stock_xdsl_opt_sees_xjit_dialects(write) -> None:
    # Through the `xdsl.universe` entry point: the loop dialect parses in plain xdsl-opt.
    from xdsl.xdsl_opt_main import xDSLOptMain

    tool = xDSLOptMain(args=[write(GOOD)])
    assert "loop" in tool.ctx.registered_dialect_names
    for name in ("torch-decompose", "convert-loop-to-scf"):
        assert name in tool.available_passes


# ---------------------------------------------------------------- in-process: misbehaving passes


@pytest.fixture
def extra_pass(monkeypatch: pytest.MonkeyPatch):
    """Adds a pass to xjit's universe (which the Multiverse loads) for one test."""
    from xjit.universe import XJIT_UNIVERSE

    def add(cls) -> None:
        monkeypatch.setitem(XJIT_UNIVERSE.all_passes, cls.name, lambda: cls)

    monkeypatch.delenv("XJIT_DEBUG", raising=False)
    return add


def _crashing_pass():
    from xdsl.passes import ModulePass

    @dataclass(frozen=True)
    class Crash(ModulePass):
        """Raises, as a buggy pass would."""

        name = "test-crash"

        def apply(self, ctx, op) -> None:
            raise KeyError("boom")

    return Crash


def _breaking_pass():
    from xdsl.dialects import func
    from xdsl.passes import ModulePass

    @dataclass(frozen=True)
    class Break(ModulePass):
        """Leaves IR that does not verify: a return with the wrong operands."""

        name = "test-break"

        def apply(self, ctx, op) -> None:
            for ret in op.walk():
                if isinstance(ret, func.ReturnOp):
                    ret.parent_block().insert_op_before(func.ReturnOp(), ret)
                    ret.detach()
                    ret.erase(safe_erase=False)

    return Break


def test_crashing_pass_is_reported(write, extra_pass, capsys) -> None:
    extra_pass(_crashing_pass())
    assert main([write(FOLDABLE), "-p", "test-crash"]) == 1
    err = capsys.readouterr().err
    assert "error: pass 'test-crash' failed: KeyError: 'boom'" in err
    assert "Traceback" not in err


def test_crashing_pass_traceback_with_debug(write, extra_pass) -> None:
    extra_pass(_crashing_pass())
    with pytest.raises(KeyError):
        main([write(FOLDABLE), "-p", "test-crash", "--debug"])


def test_pass_breaking_the_ir_is_reported(write, extra_pass, capsys) -> None:
    extra_pass(_breaking_pass())
    path = write(FOLDABLE)
    assert main([path, "-p", "test-break"]) == 1
    err = capsys.readouterr().err
    assert "'func.return' op" in err
    assert "(after pass 'test-break')" in err
    # The new return has no location of its own: it is reported at its enclosing function.
    assert err.startswith(f"{path}:1:1: error:")


# ---------------------------------------------------------------------------------------------
# Hostile and wrong inputs (issue 11): every tool fails cleanly, with a located diagnostic.

_VT = "!torch.vtensor<[3],f32>"
_UNARY = f"{_VT} -> {_VT}"


def _torch_fn(body: str, args: str = f"%x: {_VT}") -> str:
    return f"func.func @forward({args}) -> {_VT} {{\n{body}  func.return %0 : {_VT}\n}}\n"


# name -> (text, a fragment of the diagnostic, its line:col)
BAD_INPUTS: dict[str, tuple[str, str, str]] = {
    "unterminated_string": (
        'func.func @f() {\n  %0 = "' + "a" * 40 + "\n}\n",
        "unterminated string literal",
        "2:8",
    ),
    "bad_escape": ('"' + "a" * 40 + "\\q" + "a" * 40 + '"\n', "invalid escape sequence", "1:42"),
    "self_use": (_torch_fn(f"  %0 = torch.aten.tanh %0 : {_UNARY}\n"), "own result", "2:3"),
    "use_before_def": (
        _torch_fn(f"  %0 = torch.aten.tanh %1 : {_UNARY}\n  %1 = torch.aten.tanh %x : {_UNARY}\n"),
        "used before it is defined",
        "2:3",
    ),
    "undeclared_slot": (
        _torch_fn(f"  %0 = torch.global_slot.get @nope : {_VT}\n"),
        "global slot @nope is not declared",
        "2:3",
    ),
    "where_float_condition": (
        _torch_fn(f"  %0 = torch.aten.where.self %x, %x, %x : {_VT}, {_VT}, {_VT} -> {_VT}\n"),
        "the condition must be a bool tensor",
        "2:3",
    ),
    "reduction_without_store": (
        "func.func @forward(%m: memref<4xf32>) {\n  %c4 = arith.constant 4 : index\n"
        '  loop.nest (%i) to (%c4) ["reduction"] {\n'
        "    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>\n  }\n"
        "  func.return\n}\n",
        "must store its accumulator",
        "3:3",
    ),
    "affine_out_of_bounds": (
        "func.func @forward(%m: memref<4xf32>, %o: memref<4xf32>) {\n"
        "  %c4 = arith.constant 4 : index\n"
        '  loop.nest (%i) to (%c4) ["parallel"] {\n'
        "    %a = loop.load %m[%i] affine_map<(d0) -> (d0 + 2)> : memref<4xf32>\n"
        "    loop.store %a, %o[%i] affine_map<(d0) -> (d0)> : memref<4xf32>\n  }\n"
        "  func.return\n}\n",
        "ranges over [2, 5] in this nest, outside dimension 0 of memref<4xf32>",
        "4:5",
    ),
    "nested_modules": ("builtin.module {\n" * 300 + "}\n" * 300, "nesting too deep", "101:16"),
    "long_integer": (
        "func.func @f() -> i64 {\n  %0 = arith.constant " + "9" * 5000 + " : i64\n"
        "  func.return %0 : i64\n}\n",
        "numeric literal too long",
        "2:23",
    ),
    "i64_out_of_range": (
        "func.func @f() -> !torch.vtensor<[2],si64> {\n"
        "  %0 = torch.vtensor.literal(dense<[1, 99999999999999999999]> : tensor<2xi64>) "
        ": !torch.vtensor<[2],si64>\n  func.return %0 : !torch.vtensor<[2],si64>\n}\n",
        "out of range for type i64",
        "2:3",
    ),
    "generic_form_verifier_error": (
        'func.func @f(%n: index) {\n  "loop.nest"(%n) <{iterators = ["parallel", "reduction"]}> ({\n'
        '  ^bb0(%i: index):\n    "loop.yield"() : () -> ()\n  }) : (index) -> ()\n'
        "  func.return\n}\n",
        "expected 1 iterator kinds (one per bound), got 2",
        "2:3",
    ),
}

_TOOLS = {
    "xjit-opt": lambda path: ["xjit-opt", path],
    "torch-to-loops": lambda path: ["xjit-opt", "-p", "torch-to-loops", path],
    "xjit-run": lambda path: ["xjit-run", path],
}


def _run_tool(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from xjit import run as xjit_run

    tool = main if argv[0] == "xjit-opt" else xjit_run.main
    status = tool(argv[1:])
    out = capsys.readouterr()
    return status, out.out + out.err


@pytest.mark.parametrize("tool", sorted(_TOOLS))
@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_a_located_error_in_every_tool(name, tool, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("XJIT_DEBUG", raising=False)
    text, fragment, line_col = BAD_INPUTS[name]
    path = tmp_path / f"{name}.mlir"
    path.write_text(text)
    status, output = _run_tool(_TOOLS[tool](str(path)), capsys)
    assert status == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert f"{path}:{line_col}:" in output, output
    assert fragment in output, output


@pytest.mark.parametrize("tool", sorted(_TOOLS))
def test_long_unterminated_string_is_linear(tool, tmp_path) -> None:
    # 30 characters after the quote took xDSL 40 s (exponential); 100,000 must be instant. The
    # bound is generous: it only separates "linear" from "hangs".
    path = tmp_path / "s.mlir"
    path.write_text('"' + "a" * 100_000 + "\n")
    argv = _TOOLS[tool](str(path))
    script = shutil.which(argv[0], path=os.path.dirname(sys.executable))
    assert script is not None, f"{argv[0]} is not installed (pip install -e .)"
    env = {k: v for k, v in os.environ.items() if k != "XJIT_DEBUG"}
    proc = subprocess.run([script, *argv[1:]], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1
    assert f"{path}:1:1:" in proc.stderr and "unterminated string literal" in proc.stderr


def test_pass_failure_points_at_the_op_it_names(write) -> None:
    # torch-to-loops lowers the top-level module's slots; one in a nested module is refused,
    # and the diagnostic points at it rather than at the file.
    path = write(
        "builtin.module {\n  builtin.module {\n"
        f'    torch.global_slot "private" @w : {_VT}\n'
        f"    func.func @forward() -> {_VT} {{\n"
        f"      %0 = torch.global_slot.get @w : {_VT}\n      func.return %0 : {_VT}\n"
        "    }\n  }\n}\n"
    )
    proc = run(path, "-p", "torch-to-loops")
    assert_clean_failure(proc)
    assert proc.stderr.startswith(f"{path}:3:5: error: pass 'torch-to-loops' failed:"), proc.stderr
    assert "torch.global_slot" in proc.stderr
