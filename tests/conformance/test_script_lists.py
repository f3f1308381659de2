"""`List[T]` in script (lists of compile-time length): methods, operators, indexing, slicing,
`in`, comprehensions, tensors into stack/cat. xjit against torch.jit.script of the same source."""

from __future__ import annotations

import pytest
from script_oracle import check_function, load

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

V = xjit.tensor([1.5, -2.0, 3.0])

SRC = """
from typing import List, Tuple

def append_stack(x):
    xs: List[torch.Tensor] = []
    for i in range(3):
        xs.append(x * i)
    return torch.stack(xs), len(xs)

def int_list_ops(n: int) -> List[int]:
    a = [1, 2, 3]
    a.append(n)
    a += [5]
    a.insert(0, 7)
    last = a.pop()
    first = a.pop(0)
    a.extend([last, first])
    b = a[-1] + a[1:3][0] + a[-2]
    return a + [b] + [0] * 2

def slicing(n: int) -> Tuple[List[int], List[int], List[int]]:
    a = [n, n + 1, n + 2, n + 3, n + 4]
    return a[1:], a[:-2], a[::2]

def aliasing(x):
    a = [x]
    b = a
    b.append(x * 2)
    return torch.cat(a), len(b)

def membership(n: int) -> Tuple[bool, bool, bool]:
    a = [1, 2, 3]
    return n in a, n not in a, 4 in a

def comprehensions(x):
    ys = [x * i for i in range(4)]
    zs = [y + 1 for y in ys]
    return torch.stack([z.sum() for z in zs]), len(zs)

def list_in_dynamic_loop(x, n: int):
    xs = [x, x * 2]
    for i in range(n):
        xs = [xs[1], xs[0] + xs[1]]
    return xs[0] + xs[1]

def unrolled_with_exits(x):
    xs: List[torch.Tensor] = []
    for i in range(6):
        if i == 1:
            continue
        if i == 4:
            break
        xs.append(x + i)
    return torch.stack(xs)

def clear_and_reuse(x):
    xs = [x, x]
    xs.clear()
    xs.append(x + 1)
    return torch.cat(xs)
"""


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("append_stack", [(V,)]),
        ("int_list_ops", [(4,), (-3,)]),
        ("slicing", [(10,)]),
        ("aliasing", [(V,)]),
        ("membership", [(2,), (9,)]),
        ("comprehensions", [(V,)]),
        ("list_in_dynamic_loop", [(V, 3), (V, 0)]),
        ("clear_and_reuse", [(V,)]),
        ("unrolled_with_exits", [(V,)]),
    ],
)
def test_lists(name: str, args: list[tuple]) -> None:
    check_function(SRC, name, *args)


REFUSED = """
from typing import List

def append_in_dynamic_loop(x, n: int):
    xs: List[torch.Tensor] = []
    for i in range(n):
        xs.append(x)
    return torch.stack(xs)

def append_in_branch(x):
    xs = [x]
    if bool(x.sum() > 0):
        xs.append(x)
    return torch.stack(xs)

def run_time_break_in_unrolled(x):
    xs = [x]
    for i in range(3):
        if bool(x.sum() > i):
            break
        xs.append(x)
    return torch.stack(xs)

def dynamic_slice(x, i: int):
    xs = [x, x + 1]
    return torch.stack(xs[: int(x.sum()) + i])
"""


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("append_in_branch", "changing a list inside an if branch or a loop body"),
        ("dynamic_slice", "a list slice whose bound is known only at run time"),
        ("run_time_break_in_unrolled", "break/continue under a run-time condition"),
    ],
)
def test_lists_of_run_time_length_are_refused_with_a_location(name: str, message: str) -> None:
    fn = load(REFUSED, xjit)[name]
    x = xjit.ones(2)
    with pytest.raises(xjit.jit.FrontendError, match=message) as info:
        xjit.jit.script(fn)(*((x, 1) if name == "dynamic_slice" else (x,)))
    assert ".py:" in str(info.value)  # file:line:col of the offending construct


def test_append_in_a_loop_over_an_int_parameter_is_compiled_per_value() -> None:
    check_function(REFUSED, "append_in_dynamic_loop", (xjit.ones(2), 3), (xjit.ones(2), 1))


def test_a_list_held_by_a_module_attribute_cannot_be_changed() -> None:
    src = load(
        """
        class Keeps(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.sizes = [1, 2]

            def forward(self, x):
                self.sizes.append(3)
                return x
        """,
        xjit,
    )
    with pytest.raises(xjit.jit.FrontendError, match="held by a module attribute or a global"):
        xjit.jit.script(src["Keeps"]())
