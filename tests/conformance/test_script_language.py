"""The script language beyond control flow and lists: varargs sizes, indexing with None and
`...`, dtype methods, shapes as List[int], Optional refinement, torch.jit.is_scripting /
annotate, `# type:` signature comments. xjit against torch.jit.script of the same source."""

from __future__ import annotations

import pytest
from script_oracle import check_function, load

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

V = xjit.tensor([1.5, -2.0, 3.0])
M = xjit.arange(6.0).reshape(2, 3)
C = xjit.arange(24.0).reshape(2, 3, 4)

SRC = """
from typing import List, Optional, Tuple

def varargs(x):
    return x.view(3, 2), x.reshape(-1, 2), x.permute(1, 0), x.expand(2, 2, 3)

def indexing(x):
    return x[None], x[..., 0], x[0, ..., 1:], x[..., None], x[None, :, None], x[:, -1]

def dtype_methods(x):
    return x.float(), x.long(), x.double(), x.to(torch.float64), (x > 1).int()

def shapes(x) -> Tuple[List[int], List[int], int]:
    n, m = x.shape
    return x.shape, x.size(), n * m

def view_by_sizes(x):
    s = x.size()
    return x.view(s[1], s[0]) + 1

def optional(x, y: Optional[torch.Tensor] = None, k: Optional[int] = None):
    if y is not None:
        x = x + y
    if k is None:
        return x
    return x * k

def scripting_only(x):
    if torch.jit.is_scripting():
        return x + 1
    return x

def annotated_empty(x) -> List[int]:
    a = torch.jit.annotate(List[int], [])
    a.append(x.size(0))
    return a

def type_comment(x, n):
    # type: (Tensor, int) -> Tensor
    return x * n
"""


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("varargs", [(M,)]),
        ("indexing", [(C,), (M,)]),
        ("dtype_methods", [(V,), (xjit.tensor([1, 2, 3]),)]),
        ("shapes", [(M,), (xjit.ones(4, 5),)]),
        ("view_by_sizes", [(M,), (xjit.ones(5, 4),)]),
        ("optional", [(V,), (V, V), (V, None, 3), (V, V, 2)]),
        ("scripting_only", [(V,)]),
        ("annotated_empty", [(V,)]),
        ("type_comment", [(V, 3)]),
    ],
)
def test_language(name: str, args: list[tuple]) -> None:
    check_function(SRC, name, *args)


def test_a_function_needing_argument_ranks_has_no_generic_graph() -> None:
    sf = xjit.jit.script(load(SRC, xjit)["shapes"])
    with pytest.raises(xjit.jit.FrontendError, match="compiled per call"):
        _ = sf.graph
    assert sf(M) == ([2, 3], [2, 3], 6)
    assert sf(xjit.ones(4, 5)) == ([4, 5], [4, 5], 20)  # compiled again for the new shape


REFUSED = """
def with_statement(x):
    with open("f"):  # `with torch.no_grad():` is accepted (test_script_tensor_lists.py)
        return x

def try_except(x):
    try:
        return x
    except Exception:
        return x

def set_literal(x):
    s = {1, 2}
    return x

def lambda_expr(x):
    f = lambda y: y + 1
    return f(x)
"""


@pytest.mark.parametrize(
    ("name", "construct"),
    [
        ("with_statement", "With"),
        ("try_except", "Try"),
        ("set_literal", "Set"),
        ("lambda_expr", "Lambda"),
    ],
)
def test_unsupported_constructs_are_located(name: str, construct: str) -> None:
    fn = load(REFUSED, xjit)[name]
    with pytest.raises(xjit.jit.FrontendError) as info:
        xjit.jit.script(fn)
    msg = str(info.value)
    assert construct in msg
    assert f"{fn.__code__.co_filename}:" in msg  # file:line:col
    assert "^" in msg  # the caret under the construct


SCALARS = """
from typing import Tuple

def scalar_ops(n: int, f: float):
    return (
        n % 3, n // 2, -n // 2, -n % 3, n ** 2, f ** 3, f ** 2.0, n ** 0,
        min(n, 2), max(f, 1.0), min(n, f), max(n, 3), abs(-n), abs(f - 10.0), divmod(n, 3),
    )

def casts(n: int, f: float, x) -> Tuple[int, float, bool, bool, int, float]:
    return int(f), float(n), bool(n), bool(f), int(x.sum()), float(n) / 2 + n
"""


@pytest.mark.parametrize("args", [(7, 2.5), (-4, -0.75), (0, 3.0)])
def test_scalar_operators_and_builtins(args: tuple) -> None:
    check_function(SCALARS, "scalar_ops", args)


def test_scalar_casts() -> None:
    check_function(SCALARS, "casts", (7, 2.5, xjit.tensor([1.0, 2.0])), (0, -0.0, V))


def test_a_type_clash_between_returns_points_at_the_later_return() -> None:
    fn = load(
        """
        def clash(x, n: int):
            if n > 0:
                return x
            return n
        """,
        xjit,
    )["clash"]
    with pytest.raises(xjit.jit.FrontendError) as info:
        xjit.jit.script(fn)
    msg = str(info.value)
    assert "type clash: this return's value 0 is int, the return at line 4 gives Tensor" in msg
    assert ":5:5: error" in msg  # the second `return`, line 5 of the source file


TUPLES = """
from typing import Tuple

def tuple_param(t: Tuple[torch.Tensor, int]) -> Tuple[torch.Tensor, int]:
    x, n = t
    return x * n, n + 1

def nested_param(t: Tuple[torch.Tensor, Tuple[torch.Tensor, float]], k: int):
    a, (b, f) = t
    return a * f + b[k], t[1][1]

def caller(x):
    return tuple_param((x, 3))[0] + nested_param((x, (x * 2, 0.5)), 1)[0]
"""


def test_tuple_parameters() -> None:
    check_function(TUPLES, "tuple_param", ((V, 3),), ((V * 2, -1),))
    check_function(TUPLES, "nested_param", ((V, (V + 1, 2.5)), 0), ((M, (M, 0.5)), 1))
    check_function(TUPLES, "caller", (V,))


def test_a_tuple_argument_of_the_wrong_structure_names_the_parameter() -> None:
    sf = xjit.jit.script(load(TUPLES, xjit)["nested_param"])
    with pytest.raises(xjit.jit.ArgumentError, match=r"'t\[1\]' must be a tuple of 2 items"):
        sf((V, V), 0)
