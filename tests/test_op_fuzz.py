"""The differential op fuzzer (tests/op_fuzz.py) on a CI budget: every op of the registry that
it can call, a few hypothesis-drawn cases each, in eager xjit, `xjit.jit.trace` and
`xjit.jit.script` against PyTorch. A long hunt: `python tests/op_fuzz.py --count 2000`; what it
finds becomes a case in tests/test_fuzz_findings.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from op_fuzz import FAILURES, KNOWN, DrawChooser, draw_case, fuzzed_ops, run_case

OPS = fuzzed_ops()


def test_the_registry_is_covered() -> None:
    """New ops are fuzzed without code here: the schema-driven generator covers every entry
    with tensor, scalar, dim and flag arguments (at least the ones of today)."""
    from xjit.ops import registry

    names = {op.name for op in registry.all_ops()}
    assert len(OPS) >= 240, sorted(names - set(OPS))
    for op in ("torch.aten.add.Tensor", "torch.aten.remainder.Scalar", "torch.aten.sort"):
        assert op in OPS


@pytest.mark.parametrize("name", sorted(OPS))
@settings(
    max_examples=2,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_op_against_torch(name: str, data: st.DataObject) -> None:
    case = draw_case(name, OPS[name], DrawChooser(data.draw))
    for o in run_case(case):
        if o.kind in FAILURES and (name, o.kind) not in KNOWN:
            pytest.fail(f"{o.kind} ({o.how}):\n{case.describe()}\n-> {o.detail}")
