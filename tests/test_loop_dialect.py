"""The `loop` dialect: textual round-trip and every verifier error."""

from __future__ import annotations

import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.utils.exceptions import ParseError, VerifyException

from xjit.dialects import make_context
from xjit.dialects.loop import LoadOp, NestOp, StoreOp


def parse(src: str) -> ModuleOp:
    return Parser(make_context(), src).parse_module()


ROUND_TRIP = """\
func.func @f(%A: memref<?x4xf32>, %B: memref<?xf32>, %T: memref<4x?xf32>) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %n = memref.dim %A, %c0 : memref<?x4xf32>
  loop.nest (%i, %j) to (%n, %c4) ["parallel", "reduction"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<?x4xf32>
    %b = loop.load %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
    %s = arith.addf %b, %a : f32
    loop.store %s, %B[%i] affine_map<(d0) -> (d0)> : memref<?xf32>
  }
  loop.nest (%i, %j) to (%n, %c4) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0 * 2 + 1, d1 floordiv 2)> : memref<?x4xf32>
    loop.store %a, %T[%j, %i] affine_map<(d0, d1) -> (d0, d1)> {tag} : memref<4x?xf32>
  } {note = "kept"}
  loop.nest () to () [] {
    %x = loop.load %B[%c0] affine_map<(d0) -> (d0)> : memref<?xf32>
  }
  func.return
}
"""


def test_round_trip_is_stable() -> None:
    first = parse(ROUND_TRIP)
    first.verify()
    printed = str(first)
    second = parse(printed)
    second.verify()
    assert str(second) == printed
    assert second.is_structurally_equivalent(first)


def test_round_trip_keeps_structure() -> None:
    module = parse(ROUND_TRIP)
    nests = [op for op in module.walk() if isinstance(op, NestOp)]
    assert [n.iterator_kinds for n in nests] == [
        ("parallel", "reduction"),
        ("parallel", "parallel"),
        (),
    ]
    assert nests[1].attributes["note"].data == "kept"
    # The custom syntax stays custom (no generic fallback) and maps survive verbatim.
    printed = str(module)
    assert 'loop.nest (%i, %j) to (%n, %c4) ["parallel", "reduction"] {' in printed
    assert "affine_map<(d0, d1) -> (((d0 * 2) + 1), (d1 floordiv 2))>" in printed
    assert "loop.yield" not in printed  # implicit terminator
    store = next(op for op in module.walk() if isinstance(op, StoreOp) and "tag" in op.attributes)
    assert store.memref.type == module.body.block.first_op.args[2].type  # %T
    loads = [op for op in module.walk() if isinstance(op, LoadOp)]
    assert all(str(ld.result.type) == "f32" for ld in loads)


def wrap(body: str, args: str = "%A: memref<4x8xf32>, %B: memref<8xf32>") -> str:
    return f"""
func.func @f({args}) {{
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
{body}
  func.return
}}
"""


INVALID = {
    "iterator count": (
        """loop.nest (%i) to (%c4) ["parallel", "parallel"] {
  }""",
        "expected 1 iterator kinds",
    ),
    "iterator kind": (
        """loop.nest (%i) to (%c4) ["window"] {
  }""",
        "unknown iterator kind 'window'",
    ),
    "ivs vs bounds": (
        """loop.nest (%i, %j) to (%c4) ["parallel"] {
  }""",
        "one `index` argument per bound",
    ),
    "load map dims": (
        """loop.nest (%i, %j) to (%c4, %c8) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0) -> (d0, d0)> : memref<4x8xf32>
  }""",
        "loop.load map has 1 dims but 2 index operands",
    ),
    "store map dims": (
        """loop.nest (%i, %j) to (%c4, %c8) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x8xf32>
    loop.store %a, %B[%i, %j] affine_map<(d0, d1, d2) -> (d1)> : memref<8xf32>
  }""",
        "loop.store map has 3 dims but 2 index operands",
    ),
    "load map results": (
        """loop.nest (%i, %j) to (%c4, %c8) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d1)> : memref<4x8xf32>
  }""",
        "loop.load map has 1 results but the memref has rank 2",
    ),
    "store map results": (
        """loop.nest (%i, %j) to (%c4, %c8) ["parallel", "parallel"] {
    %a = loop.load %A[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<4x8xf32>
    loop.store %a, %B[%i, %j] affine_map<(d0, d1) -> (d0, d1)> : memref<8xf32>
  }""",
        "loop.store map has 2 results but the memref has rank 1",
    ),
    "map symbols": (
        """loop.nest (%i) to (%c8) ["parallel"] {
    %b = loop.load %B[%i] affine_map<(d0)[s0] -> (d0 + s0)> : memref<8xf32>
  }""",
        "map must not have symbols",
    ),
    # The custom syntax derives value types from the memref, so type mismatches need the
    # generic form.
    "load result type": (
        """loop.nest (%i) to (%c8) ["parallel"] {
    %b = "loop.load"(%B, %i) <{map = affine_map<(d0) -> (d0)>}> : (memref<8xf32>, index) -> f64
  }""",
        "result type f64 does not match the element type f32",
    ),
    "store value type": (
        """%x = arith.constant 1.0 : f64
  loop.nest (%i) to (%c8) ["parallel"] {
    "loop.store"(%x, %B, %i) <{map = affine_map<(d0) -> (d0)>}> : (f64, memref<8xf32>, index) -> ()
  }""",
        "stored value type f64 does not match the element type f32",
    ),
}


@pytest.mark.parametrize("case", INVALID.keys())
def test_verifier_rejects(case: str) -> None:
    body, message = INVALID[case]
    module = parse(wrap(body))
    with pytest.raises(VerifyException, match=message):
        module.verify()


def test_index_operands_must_be_index() -> None:
    src = wrap(
        """%k = arith.constant 1 : i64
  %b = "loop.load"(%B, %k) <{map = affine_map<(d0) -> (d0)>}> : (memref<8xf32>, i64) -> f32"""
    )
    with pytest.raises(VerifyException, match="index"):
        parse(src).verify()


def test_yield_only_inside_nest() -> None:
    src = 'func.func @g() {\n  "loop.yield"() : () -> ()\n}'
    with pytest.raises(VerifyException, match="expects parent op 'loop.nest'"):
        parse(src).verify()


def test_parse_rejects_non_map() -> None:
    with pytest.raises(ParseError, match="expected an affine_map"):
        parse(
            wrap(
                """loop.nest (%i) to (%c8) ["parallel"] {
    %b = loop.load %B[%i] "not a map" : memref<8xf32>
  }"""
            )
        )
