"""The `inline` pass: every func.call replaced by its callee's body, dead private callees erased,
recursion refused.

Oracle: the torch-level reference interpreter (frontends/torch_interpreter.py, which runs
func.call itself) on the module before inlining, the same interpreter on the inlined module, and
eager Python (or numpy written here). Every inlined module is verified.
"""

from __future__ import annotations

import numpy as np
import pytest
from models import MyDecisionGate, MyGatedCell, MyRNNLoop
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

import xjit as torch
from xjit.dialects import make_context
from xjit.frontends.torch_interpreter import run_torch
from xjit.passes.inline import Inline, InlineError

RNG = np.random.default_rng(0)


def parse(ir: str) -> ModuleOp:
    module = Parser(make_context(), ir).parse_module()
    module.verify()
    return module


def inlined(module: ModuleOp) -> ModuleOp:
    out = module.clone()
    Inline().apply(make_context(), out)
    out.verify()
    return out


def calls(module: ModuleOp) -> list[func.CallOp]:
    return [op for op in module.walk() if isinstance(op, func.CallOp)]


def func_names(module: ModuleOp) -> list[str]:
    return [op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)]


def same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6, atol=1e-6)


# -- hand-written modules ---------------------------------------------------------------------

V3 = "!torch.vtensor<[3],f32>"

NESTED = f"""
torch.global_slot "private" @w : {V3}
func.func @forward(%x: {V3}) -> {V3} {{
  %0 = func.call @outer(%x) : ({V3}) -> {V3}
  %1 = func.call @outer(%0) : ({V3}) -> {V3}
  func.return %1 : {V3}
}}
func.func private @outer(%a: {V3}) -> {V3} {{
  %w = torch.global_slot.get @w : {V3}
  %0 = torch.aten.mul.Tensor %a, %w : {V3}, {V3} -> {V3}
  %1 = func.call @inner(%0) : ({V3}) -> {V3}
  %int1 = torch.constant.int 1
  %2 = torch.aten.add.Tensor %1, %a, %int1 : {V3}, {V3}, !torch.int -> {V3}
  func.return %2 : {V3}
}}
func.func private @inner(%a: {V3}) -> {V3} {{
  %0 = torch.aten.tanh %a : {V3} -> {V3}
  func.return %0 : {V3}
}}
func.func private @unused(%a: {V3}) -> {V3} {{
  %0 = torch.aten.neg %a : {V3} -> {V3}
  func.return %0 : {V3}
}}
func.func @public_unused(%a: {V3}) -> {V3} {{
  %0 = func.call @inner(%a) : ({V3}) -> {V3}
  func.return %0 : {V3}
}}
"""


def test_nested_calls_twice_each_computes_the_same() -> None:
    module = parse(NESTED)
    x = RNG.standard_normal(3).astype(np.float32)
    w = RNG.standard_normal(3).astype(np.float32)
    params = {"w": w}
    before = run_torch(module, "forward", [x], params)
    after_module = inlined(module)
    after = run_torch(after_module, "forward", [x], params)

    def outer(a):
        return np.tanh(a * w) + a

    same(before, [outer(outer(x))])
    same(after, [outer(outer(x))])
    assert calls(after_module) == []
    # Private callees are gone once inlined (also the never-called one); public functions stay,
    # inlined themselves.
    assert func_names(after_module) == ["forward", "public_unused"]
    same(run_torch(after_module, "public_unused", [x]), [np.tanh(x)])
    # Two call sites of @outer: two independent copies of its body (two tanh, two mul, two add).
    ops = [op.name for op in after_module.walk()]
    assert ops.count("torch.aten.tanh") == 3  # 2 in forward, 1 in public_unused
    assert ops.count("torch.aten.mul.Tensor") == 2
    assert ops.count("torch.aten.add.Tensor") == 2


MULTI = f"""
func.func @forward(%x: {V3}, %y: {V3}) -> ({V3}, {V3}, {V3}, {V3}) {{
  %a, %b, %c = func.call @three(%x, %y) : ({V3}, {V3}) -> ({V3}, {V3}, {V3})
  %d = func.call @ident(%a) : ({V3}) -> {V3}
  func.return %a, %b, %c, %d : {V3}, {V3}, {V3}, {V3}
}}
func.func private @three(%p: {V3}, %q: {V3}) -> ({V3}, {V3}, {V3}) {{
  %0 = torch.aten.mul.Tensor %p, %q : {V3}, {V3} -> {V3}
  func.return %q, %0, %p : {V3}, {V3}, {V3}
}}
func.func private @ident(%p: {V3}) -> {V3} {{
  func.return %p : {V3}
}}
"""


def test_multiple_results_and_returned_arguments() -> None:
    """Results in order, a returned argument (swapped with another) maps to the call operand,
    an identity callee leaves no op behind."""
    module = parse(MULTI)
    x = RNG.standard_normal(3).astype(np.float32)
    y = RNG.standard_normal(3).astype(np.float32)
    expected = [y, x * y, x, y]
    same(run_torch(module, "forward", [x, y]), expected)
    after_module = inlined(module)
    same(run_torch(after_module, "forward", [x, y]), expected)
    assert func_names(after_module) == ["forward"]
    body = next(op for op in after_module.ops if isinstance(op, func.FuncOp)).body.block
    assert [op.name for op in body.ops] == ["torch.aten.mul.Tensor", "func.return"]
    ret = body.last_op
    assert isinstance(ret, func.ReturnOp)
    x_arg, y_arg = body.args
    assert list(ret.arguments) == [y_arg, body.first_op.results[0], x_arg, y_arg]


def test_call_inside_a_loop_region() -> None:
    module = parse(f"""
func.func @forward(%x: {V3}, %n: !torch.int) -> {V3} {{
  %true = torch.constant.bool true
  %r = torch.prim.Loop %n, %true, init(%x) {{
  ^bb0(%i: !torch.int, %h: {V3}):
    %0 = func.call @step(%h) : ({V3}) -> {V3}
    torch.prim.Loop.condition %true, iter(%0 : {V3})
  }} : (!torch.int, !torch.bool, {V3}) -> ({V3})
  func.return %r : {V3}
}}
func.func private @step(%a: {V3}) -> {V3} {{
  %0 = torch.aten.tanh %a : {V3} -> {V3}
  %int1 = torch.constant.int 1
  %1 = torch.aten.add.Tensor %0, %a, %int1 : {V3}, {V3}, !torch.int -> {V3}
  func.return %1 : {V3}
}}
""")
    x = RNG.standard_normal(3).astype(np.float32)
    ref = x
    for _ in range(4):
        ref = np.tanh(ref) + ref
    same(run_torch(module, "forward", [x, 4]), [ref])
    after_module = inlined(module)
    same(run_torch(after_module, "forward", [x, 4]), [ref])
    assert calls(after_module) == []
    assert func_names(after_module) == ["forward"]


@pytest.mark.parametrize(
    ("ir", "cycle"),
    [
        (
            f"""
func.func @forward(%x: {V3}) -> {V3} {{
  %0 = func.call @f(%x) : ({V3}) -> {V3}
  func.return %0 : {V3}
}}
func.func private @f(%a: {V3}) -> {V3} {{
  %0 = func.call @f(%a) : ({V3}) -> {V3}
  func.return %0 : {V3}
}}
""",
            "@f -> @f",
        ),
        (
            f"""
func.func @forward(%x: {V3}) -> {V3} {{
  %0 = func.call @f(%x) : ({V3}) -> {V3}
  func.return %0 : {V3}
}}
func.func private @f(%a: {V3}) -> {V3} {{
  %0 = func.call @g(%a) : ({V3}) -> {V3}
  func.return %0 : {V3}
}}
func.func private @g(%a: {V3}) -> {V3} {{
  %0 = func.call @f(%a) : ({V3}) -> {V3}
  func.return %0 : {V3}
}}
""",
            "@f -> @g -> @f",
        ),
    ],
    ids=["self", "mutual"],
)
def test_recursion_is_a_clear_error(ir: str, cycle: str) -> None:
    module = parse(ir)
    before = str(module)
    with pytest.raises(InlineError, match=f"recursive calls cannot be inlined: {cycle}$"):
        Inline().apply(make_context(), module)
    assert str(module) == before  # refused before anything was rewritten


# -- the tutorial's scripted modules ----------------------------------------------------------


def test_scripted_cell_inlined_agrees_with_interpreter_and_eager() -> None:
    torch.manual_seed(0)
    cell = MyGatedCell(torch.jit.script(MyDecisionGate()))
    scripted = torch.jit.script(cell)
    src = scripted.graph_source()
    module, params = src["ir"], src["params"]
    assert {c.callee.root_reference.data for c in calls(module)} == {"linear.forward", "dg.forward"}
    after_module = inlined(module)
    assert calls(after_module) == []
    assert func_names(after_module) == ["forward"]
    eager = MyGatedCell(MyDecisionGate())
    eager.linear = cell.linear
    h = torch.rand(3, 4)
    for sign in (1.0, -1.0):  # both branches of the gate
        x = torch.rand(3, 4) * sign
        want = [t.numpy() for t in eager(x, h)]
        same(run_torch(module, "forward", [x, h], params), want)
        same(run_torch(after_module, "forward", [x, h], params), want)


def test_scripted_rnn_loop_with_traced_cell_inlined() -> None:
    torch.manual_seed(0)
    x, h = torch.rand(3, 4), torch.rand(3, 4)
    gate = torch.jit.script(MyDecisionGate())

    loop = torch.jit.script(MyRNNLoop(torch.jit.trace(MyGatedCell(gate), (x, h))))
    src = loop.graph_source()
    module, params = src["ir"], src["params"]
    # A call inside the prim.Loop body, itself calling the gate: nested inlining in a region.
    assert {c.callee.root_reference.data for c in calls(module)} == {
        "cell.forward",
        "cell.dg.forward",
    }
    after_module = inlined(module)
    assert calls(after_module) == []
    assert func_names(after_module) == ["forward"]
    names = [op.name for op in after_module.walk()]
    assert names.count("torch.prim.If") == 1 and names.count("torch.prim.Loop") == 1

    eager = MyGatedCell(MyDecisionGate())
    eager.linear = loop.cell.linear
    xs = torch.rand(6, 3, 4) - 0.5
    signs = {bool(loop.cell.linear(xs[i]).sum().numpy() > 0) for i in range(6)}
    assert signs == {True, False}  # the gate takes both branches over the steps
    hh = yy = torch.zeros(3, 4)
    for i in range(6):
        yy, hh = eager(xs[i], hh)
    want = [yy.numpy(), hh.numpy()]
    same(run_torch(module, "forward", [xs], params), want)
    same(run_torch(after_module, "forward", [xs], params), want)
    # And the compiled module (which inlines first) agrees.
    same([t.numpy() for t in loop(xs)], want)
