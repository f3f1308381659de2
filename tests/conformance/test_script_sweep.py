"""A sweep of small TorchScript programs in the style of PyTorch's test/jit/ tests (control flow,
scalars, Optional refinement, tuples, tensor methods, iteration, isinstance): each function is
run by xjit eagerly and scripted, and compared with real PyTorch run eagerly and with
torch.jit.script (the oracle). A program xjit refuses is listed in REFUSED with the message its
located FrontendError must carry."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch as real_torch
from script_oracle import assert_refused, assert_same, both_fns, load, to_torch
from xdsl.utils.exceptions import DiagnosticException

import xjit

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RNG = np.random.default_rng(10)


def t(*shape: int, dtype: Any = np.float32, lo: float = -2.0, hi: float = 2.0) -> xjit.Tensor:
    """A deterministic random xjit tensor (values rounded to quarters: comparisons are exact)."""
    a = np.round(RNG.uniform(lo, hi, shape) * 4) / 4
    return xjit.from_numpy(np.ascontiguousarray(a.astype(dtype)))


def ints(*shape: int, lo: int = -5, hi: int = 6) -> xjit.Tensor:
    return xjit.from_numpy(RNG.integers(lo, hi, shape).astype(np.int64))


CONTROL_FLOW = """
from typing import List, Optional, Tuple

def nested_break(x):
    for i in range(4):
        for j in range(4):
            if j > i:
                break
            x = x + j
    return x

def nested_continue(x, n: int):
    acc = 0
    for i in range(n):
        if i % 2 == 1:
            continue
        for j in range(i):
            if j == 1:
                continue
            acc += i * j
    return x + acc

def nested_return(x, n: int):
    for i in range(n):
        for j in range(n):
            if i + j == 5:
                return x * i + j
    return x

def while_tensor_cond(x):
    while bool(x.sum() < 10):
        x = x * 2 + 1
    return x

def while_implicit_tensor_cond(x):
    k = 0
    while x.max() < 20:
        x = x + 3
        k += 1
    return x, k

def if_implicit_tensor_cond(x):
    if x.sum() > 0:
        return x
    return -x

def while_break_on_tensor(x):
    i = 0
    while i < 50:
        x = x * 1.5
        if bool(x.abs().max() > 30):
            break
        i += 1
    return x, i

def while_continue(x, n: int):
    i = 0
    s = x
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        s = s + i
    return s

def range_step(x):
    s = 0
    for i in range(10, 0, -3):
        s += i
    for j in range(1, 8, 2):
        s = s * 2 - j
    return x + s

def range_two_args(n: int):
    s = 0
    for i in range(2, n):
        s = s * 2 + i
    return s

def loop_carried_mixed(x):
    k = 0
    f = 1.0
    y = x
    for i in range(4):
        y = y * x
        k = k + i
        f = f * 0.5
    return y, k, f

def if_defines_var(x, flag: bool):
    if flag:
        y = x + 1
    else:
        y = x - 1
    return y

def elif_chain(x, n: int):
    if n < 0:
        r = x * -1
    elif n == 0:
        r = x * 0
    elif n < 5:
        r = x * n
    else:
        r = x + n
    return r

def early_return_while(n: int):
    i = 0
    while i < 100:
        if i * i > n:
            return i
        i += 1
    return -1

def loop_over_tuple_of_ints(x):
    for k in (1, 2, 3):
        x = x * k
    return x

def loop_zero_trips(x, n: int):
    for i in range(n):
        x = x + 100
    return x

def return_in_else(x, n: int):
    for i in range(n):
        if i < 2:
            x = x + 1
        else:
            return x * 10
    return x

def break_then_use(x):
    last = -1
    for i in range(10):
        last = i
        if i == 3:
            break
    return x + last

def while_true_break(x):
    n = 0
    while True:
        n += 2
        if n > 7:
            break
    return x * n

def if_shape_cond(x):
    if x.size(0) > 2:
        return x[0]
    return x[-1]

def loop_shrinks_tensor(x):
    for _ in range(2):
        x = x[1:]
    return x

def loop_grows_tensor(x):
    for _ in range(2):
        x = torch.cat([x, x * 2])
    return x.sum(), x.shape[0]
"""

SCALARS = """
import math
from typing import Tuple

def int_ops(a: int, b: int):
    return a + b, a - b, a * b, a // b, a % b, -a, a ** 2, a < b, a == b, a != b, a >= b

def float_ops(a: float, b: float):
    return a + b, a - b, a * b, a / b, a // b, a % b, -a, a < b, a <= b

def mixed_ops(a: int, b: float):
    return a + b, a * b, a / 2, a // 2, b // 2, float(a), int(b), a == b, a - b

def bool_ops(a: bool, b: bool):
    return a and b, a or b, not a, a != b, a == b, int(a) + int(b)

def chained(a: int, b: int, c: int):
    return a < b < c, a <= b <= c, a < b > c, a == b == c, a != b != c

def ternary(a: int, b: int):
    return a if a > b else b, 1.5 if a == b else 2.5, (a - b) if a > 0 else (b - a)

def divmod_int(a: int, b: int):
    q, r = divmod(a, b)
    return q, r

def divmod_float(a: float, b: float):
    return divmod(a, b)

def round_builtin(a: float):
    return round(a), round(a + 0.5), round(-a)

def math_funcs(a: float):
    return math.floor(a), math.ceil(a), math.sqrt(abs(a)), math.exp(a), math.log(abs(a) + 1.0)

def math_consts(a: float):
    return a * math.pi, a + math.e, math.inf > a, -math.inf < a

def min_max_abs(a: int, b: int, c: float):
    return min(a, b), max(a, b), abs(a), abs(c), min(c, 0.5), max(a, c)

def int_float_casts(a: float, b: int):
    return int(a), float(b), bool(b), bool(a), int(True)

def pow_mixed(a: int, b: float):
    return a ** 2, a ** b, b ** 2, 2 ** a, 2.0 ** a

def augmented(a: int, b: float):
    a += 3
    a *= 2
    a -= 1
    a = a // 3
    b += a
    b *= 1.5
    b /= 2
    return a, b

def and_or_values(a: int, b: int) -> bool:
    return (a > 0 and b > 0) or (a < 0 and b < 0)

def short_circuit_div(x, n: int):
    if n != 0 and 10 // n > 1:
        return x + 1
    return x

def short_circuit_or(x, n: int):
    if n == 0 or 10 // n > 1:
        return x + 1
    return x - 1

def tensor_bools_and(x):
    if bool(x.sum() > 0) and bool(x.max() < 10):
        return x
    return -x

def tensor_bools_or_not(x):
    if not bool(x.min() > 0) or bool(x.sum() > 100):
        return x * 2
    return x

def scalar_from_tensor(x):
    a = x.sum().item()
    b = float(x[0])
    c = int(x.numel())
    return a + b, c

def int_of_tensor(x):
    return int(x.argmax()), float(x.max()), bool(x.max() > 0)

def scalar_tensor_ops(x, a: int, b: float):
    return x + a, x * b, a - x, b / x, x ** 2, 2 ** x, x // 2, x % 2

def int_tensor_div(x):
    return x / 2, x // 3, x % 3, x * 1.5, x + 0.5

def bool_tensor_ops(x, y):
    a = x > 0
    b = y > 0
    return a & b, a | b, a ^ b, ~a, (a & b).sum()

def compare_int_float(a: int, b: float):
    return a < b, a == b, b >= a, a != b

def neg_mod(a: int, b: int):
    return a % b, -a % b, a % -b, a // -b, -a // b

def float_mod_neg(a: float, b: float):
    return a % b, -a % b, a // -b, math.fmod(a, b)
"""

OPTIONAL = """
from typing import Optional, Tuple

def opt_default(x, y: Optional[torch.Tensor] = None):
    if y is not None:
        return x + y
    return x

def opt_int(x, n: Optional[int] = None):
    if n is None:
        n = 2
    return x * n

def opt_assert(x, y: Optional[torch.Tensor]):
    assert y is not None
    return x + y

def opt_local_reassign(x, flag: bool):
    y: Optional[torch.Tensor] = None
    if flag:
        y = x * 2
    if y is None:
        return x
    return y

def opt_and(x, y: Optional[torch.Tensor]):
    if y is not None and bool(y.sum() > 0):
        return x + y
    return x

def opt_or(x, y: Optional[torch.Tensor]):
    if y is None or bool(y.sum() > 0):
        return x
    return x - y

def opt_early_return(x, y: Optional[torch.Tensor]):
    if y is None:
        return x
    return x * y

def opt_float(a: Optional[float]) -> float:
    if a is None:
        return -1.0
    return a * 2

def opt_ternary(x, y: Optional[torch.Tensor]):
    z = x if y is None else y
    return z + 1

def opt_in_loop(x, n: int):
    best: Optional[torch.Tensor] = None
    for i in range(n):
        cand = x * i
        if best is None or bool(cand.sum() > best.sum()):
            best = cand
    if best is None:
        return x
    return best

def opt_return(x, flag: bool) -> Optional[torch.Tensor]:
    if flag:
        return x + 1
    return None

def opt_int_return(n: int) -> Optional[int]:
    if n > 0:
        return n * 2
    return None

def opt_not_none_else(x, n: Optional[int]):
    if n is not None:
        m = n + 1
    else:
        m = 0
    return x + m
"""

TUPLES = """
from typing import Tuple

def helper(x):
    return x + 1, x - 1

def nested_unpack(x):
    t = ((x, x + 1), x + 2)
    (a, b), c = t
    return a + b + c

def return_annotated(x) -> Tuple[torch.Tensor, int]:
    return x * 2, 3

def index_tuple(x):
    t = (x, 2, 3.5)
    return t[0] * t[1] + t[2], t[-1], t[1]

def tuple_param(t: Tuple[torch.Tensor, torch.Tensor]):
    a, b = t
    return a - b

def nested_tuple_param(t: Tuple[torch.Tensor, Tuple[int, float]]):
    x, (n, f) = t
    return x * n + f

def swap_in_loop(x, y):
    for i in range(3):
        x, y = y, x + y
    return x, y

def loop_carried_tuple(x):
    c = (x, x)
    for i in range(2):
        c = (c[0] + 1, c[1] * 2)
    return c[0] + c[1]

def call_unpack(x):
    a, b = helper(x)
    return a * b

def tuple_slice(x):
    t = (x, x * 2, x * 3)
    a, b = t[1:]
    return a + b, len(t)

def nested_return(x):
    return (x, (x + 1, x + 2)), 5

def tuple_in_if(x, flag: bool):
    if flag:
        r = (x, 1)
    else:
        r = (x * 2, 2)
    return r[0] * r[1]

def tuple_compare(a: int, b: int):
    return (a, b) == (1, 2), (a, b) != (b, a)

def starred_assign(x):
    a, b, c = x.unbind(0)
    return a + b * c

def chunk_unpack(x):
    a, b = x.chunk(2, dim=1)
    c, d = torch.split(x, 2, dim=1)
    return a * b, c - d

def loop_over_tuple_of_tensors(x):
    s = x * 0
    for v in (x, x + 1, x * 2):
        s = s + v
    return s

def tuple_of_sizes(x):
    n, m = x.shape
    a, b = x.size()
    return n * m + a - b
"""

TENSORS = """
from typing import List

def sizes(x):
    return x.size(0), x.size(-1), x.dim(), x.numel(), x.shape[1], len(x), x.ndim

def size_list(x):
    s = x.size()
    return s[0] * s[1], len(s), x.shape[-1]

def views(x):
    return x.view(6, 4), x.view(-1), x.reshape(2, 12), x.reshape([4, -1]), x.view([2, -1, 2])

def view_from_sizes(x):
    return x.view(x.size(0), -1), x.reshape(x.shape[0] * x.shape[1], x.shape[2])

def permutes(x):
    return x.permute(2, 0, 1).contiguous(), x.transpose(0, 2), x.permute([1, 0, 2]), x.transpose(-1, -2)

def flatten_t(x):
    return x.flatten(), x.flatten(1), torch.flatten(x, 0, 1), x[0].t(), x.mT

def squeezes(x):
    return x.squeeze(1), x.squeeze(), x.unsqueeze(0), x.unsqueeze(-1), x.squeeze(-1)

def cat_stack(x, y):
    return (torch.cat([x, y], 0), torch.cat((x, y), dim=1), torch.stack([x, y]),
            torch.stack([x, y], dim=-1), torch.cat([x, y], -1))

def matmuls(a, b):
    return torch.matmul(a, b), a @ b, a.mm(b), torch.mm(a, b), a.matmul(b)

def batched_matmul(a, b):
    return torch.bmm(a, b), a @ b, torch.matmul(a, b[0])

def reductions(x):
    return (x.sum(), x.sum(0), x.sum(dim=1, keepdim=True), x.mean(-1), x.mean((0, 1)),
            torch.sum(x, [0, 1]), x.mean(dim=0, keepdim=True))

def prod(x):
    return x.prod(1)

def int_reductions(x):
    return x.sum(), x.sum(1), x.max(), x.min(0)[0], x.float().mean()

def max_min(x):
    return (x.max(), x.max(dim=1)[0], x.min(0)[1], x.argmax(), x.argmax(dim=1),
            x.argmin(1, keepdim=True), x.max(1, keepdim=True)[1], x.amax(0))

def max_min_unpack(x):
    v, i = x.max(1)
    w, j = torch.min(x, dim=0)
    return v + w.sum(), i - j.sum()

def elementwise_max(x, y):
    return torch.max(x, y), torch.maximum(x, y), torch.minimum(x, y), torch.min(x, y)

def clamps(x):
    return (x.clamp(-0.5, 0.5), x.clamp(min=0.0), torch.clamp(x, max=0.2), x.clamp_min(0.1),
            x.clamp_max(-0.1), torch.clamp(x, -1, 1))

def wheres(x, y):
    return torch.where(x > 0, x, y), torch.where(x > y, x, 0.0), torch.where(x < 0, 1.0, x)

def masked_fills(x):
    return x.masked_fill(x < 0, 0.0), x.masked_fill(x > 0.5, -1.5), x.masked_fill(x == 0, 2)

def masked_fill_inf(x):
    y = x.masked_fill(x < 0, float("-inf"))
    return torch.softmax(y, dim=-1)

def dtype_conversions(x):
    return (x.to(torch.int64), x.to(torch.float64), x.long(), x.int(), x.double(), x.float(),
            x.to(dtype=torch.int32), (x > 0).to(torch.float32))

def to_like(x, y):
    return x.to(y.dtype), y.type_as(x), x.to(y)

def likes(x):
    return (torch.zeros_like(x), torch.ones_like(x), torch.full_like(x, 3.5),
            torch.zeros_like(x, dtype=torch.int64))

def aranges(n: int):
    return (torch.arange(n), torch.arange(0, n, 2), torch.arange(n, dtype=torch.float32),
            torch.arange(1.0, 2.0, 0.25), torch.arange(n, 0, -1), torch.arange(2, n))

def factories(x):
    return (torch.zeros(2, 3), torch.ones([3]), torch.full([2, 2], 7), torch.full([2], 1.5),
            torch.zeros(x.size(0), dtype=torch.int64), torch.ones(2, 2, dtype=torch.bool),
            torch.zeros([x.size(0), 2]))

def eye(n: int):
    return torch.eye(n)

def new_factories(x):
    return x.new_zeros(3), x.new_ones([2, 2]), x.new_full([2], 4.0), x.new_zeros(2, 2)

def len_of_tensor(x):
    return len(x), len(x[0]), len(x.t())

def iterate_tensor(x):
    acc = torch.zeros(x.size(1))
    for row in x:
        acc = acc + row * 2
    return acc

def iterate_tensor_enumerate(x):
    acc = x[0] * 0
    for i, row in enumerate(x):
        acc = acc + row * i
    return acc

def enumerate_zip_lists(x, y):
    s = x * 0
    for i, v in enumerate([x, y]):
        s = s + v * i
    for a, b in zip([x, y], [y, x]):
        s = s + a * b
    return s

def enumerate_start(x):
    s = x * 0
    for i, v in enumerate([x, x + 1, x + 2], 1):
        s = s + v * i
    return s

def isinstance_checks(x, n: int, f: float):
    a = 0
    if isinstance(x, torch.Tensor):
        a += 1
    if isinstance(n, int):
        a += 10
    if isinstance(n, float):
        a += 100
    if isinstance(f, float):
        a += 1000
    if isinstance(x, (int, torch.Tensor)):
        a += 10000
    return a

def indexing(x):
    return x[0], x[-1], x[1:], x[:, 0], x[..., -1], x[None], x[:, None], x[0, 1], x[::2]

def index_with_ints(x, i: int, j: int):
    return x[i], x[i, j], x[i:j], x[:, j], x[-i]

def index_tensor(x, idx):
    return x[idx], x[:, idx], x.index_select(0, idx)

def bool_mask_index(x):
    return x[x > 0].sum()

def unary_methods(x):
    return (x.abs(), x.neg(), x.exp(), x.sigmoid(), x.tanh(), x.relu(), torch.sqrt(x.abs()),
            x.sign(), x.floor(), x.ceil(), x.round(), x.reciprocal(), -x, x.pow(2))

def square(x):
    return x.square()

def softmaxes(x):
    return (torch.softmax(x, -1), x.softmax(dim=0), torch.log_softmax(x, 1),
            torch.nn.functional.softmax(x, dim=-1), torch.nn.functional.relu(x))

def comparisons(x, y):
    return x == y, x != y, x < y, x >= 0.5, x.eq(y), x.gt(0), torch.ne(x, y), x.le(y)

def all_any(x, i):
    return ((x > -10).all(), (x > 0).any(), x.any(0), (x > 0).all(1, keepdim=True), i.any(-1),
            torch.all(i), torch.any(x > 5))

def expand_repeat(x):
    return x.expand(3, 2), x.repeat(2, 3), x.expand(-1, 2), x.expand_as(torch.zeros(4, 2))

def cumulative(x):
    return x.cumsum(0), torch.cumsum(x, dim=1), x.norm(), x.var(), x.std(1)

def contiguous_chain(x):
    return x.t().contiguous().view(-1), x.transpose(0, 1).reshape(-1)

def sum_dtype(x):
    return x.sum(dtype=torch.float64), x.sum(0, dtype=torch.int64)

def shape_arith(x):
    b, c = x.shape[0], x.shape[1]
    return x.view(b * c), b // 2, c % 2, x.size(0) * x.size(1) == x.numel()

def tensor_item_loop(x):
    total = 0.0
    for i in range(x.size(0)):
        total += float(x[i])
    return total

def topk_sort(x):
    v, i = x.topk(2)
    s, j = x.sort(dim=-1, descending=True)
    return v, i, s, j

def chunk_loop(x):
    out = []
    for c in x.chunk(3):
        out.append(c.sum())
    return torch.stack(out)

def tensor_truthiness(x):
    n = 0
    for i in range(x.size(0)):
        if x[i] > 0:
            n += 1
    return n
"""


PROMOTION = """
def int_tensor_scalars(x):
    return x * 1.5, x + True, x // 2, x % 3, x / 2, -x // 3, x.abs(), x ** 2, x.float() / 4

def float_floor_mod(x):
    return x // 0.75, x % 0.75, torch.floor_divide(x, 2), torch.remainder(x, -1.5), x.round()

def mixed_dtype_tensors(x, i):
    return x + i, x * i, i / i.clamp(min=1), (i > 0).sum(), i.sum() + x.sum(), torch.where(x > 0, x, i)

def bool_sum(x):
    m = x > 0
    return m.sum(), m.sum(0), m.float().mean(), m.long().sum(), m.int() + 1

def int_max_argmax(i):
    return i.max(), i.min(), i.argmax(), i.max(0)[0], i.sum(1, keepdim=True)

def full_dtypes(n: int):
    return torch.full([2], n), torch.full([2], 0.5), torch.ones(2) * n

def arange_dtypes(n: int, f: float):
    return torch.arange(n) * 0.5, torch.arange(f), torch.arange(0, n, 1.5), torch.arange(n).float().mean()

def scalar_tensor_compare(x, a: int, f: float):
    return x > a, x <= f, a < x, (x == a).any() if False else x != f, x.eq(a)
"""

ISINSTANCE = """
from typing import Optional, Tuple

def of_bool(b: bool, n: int):
    return isinstance(b, int), isinstance(b, bool), isinstance(n, bool), isinstance(n, (bool, int))

def of_containers(x, t: Tuple[int, int]):
    return isinstance(t, tuple), isinstance(x, tuple), isinstance([x], list), isinstance(x, float)

def of_optional(x, y: Optional[torch.Tensor]):
    if isinstance(y, torch.Tensor):
        return x + y
    return x

def item_of(x, i):
    return x.sum().item(), i.max().item(), (x > 0).any().item() if False else i.sum().item() * 2
"""


MORE = """
import math
from typing import List, Optional, Tuple


def helper(x, n: int = 2, f: float = 1.5):
    return x * n + f

def helper_opt(x, y: Optional[torch.Tensor] = None, k: int = 1):
    if y is None:
        return x * k
    return x + y * k

def range_bound_rebound(x, n: int):
    s = 0
    for i in range(n):
        n = n - 1
        s += i
    return x + s, n

def loop_var_rebound(x):
    s = 0
    for i in range(4):
        i = i * 10
        s += i
    return x + s

def while_and_tensor_cond(x, n: int):
    i = 0
    while i < n and bool(x.sum() < 50):
        x = x * 2
        i += 1
    return x, i

def calls_defaults_optional(x):
    return helper(x), helper(x, 3), helper(x, f=0.5), helper(x, n=4, f=-1.0), helper_opt(x), helper_opt(x, x, k=3)


def size_equality(x, y):
    return x.size() == y.size(), x.shape[0] == y.shape[0], x.dim() == y.dim()

def aug_add_in_loop(x):
    acc = torch.zeros_like(x)
    for i in range(3):
        acc += x * i
    return acc

def alias_aug_add(x):
    y = x + 0
    z = y
    z += 1
    return y, z

def assert_message(x, n: int):
    assert n > 0, "n must be positive"
    return x * n

def jit_annotate(x):
    a = torch.jit.annotate(int, 3)
    b = torch.jit.annotate(Optional[int], None)
    if b is None:
        b = a
    return x * b

def tuple_ternary(x, flag: bool):
    r = (x, 1) if flag else (x * 2, 2)
    a, b = r
    return a * b

def nested_if_assign(a: int, b: int):
    x = 0
    if a > 0:
        if b > 0:
            x = 1
        else:
            x = 2
    else:
        if b > 0:
            x = 3
    return x

def while_true_continue_break(x):
    i = 0
    while True:
        i += 1
        if i == 2:
            continue
        if i >= 5:
            break
        x = x + i
    return x, i

def for_inner_break_count(x):
    n = 0
    for i in range(3):
        for j in range(3):
            if j == 2:
                break
            n += 1
        else_ = 0
    return x * n


def tensor_cond_rescale(x):
    m = x.max()
    if m > 1:
        x = x / m
    return x

def tensor_cond_ternary(x, y):
    return torch.maximum(x, y).sum() if bool(x.sum() > y.sum()) else torch.minimum(x, y).sum()

def clone_inplace_methods(x):
    y = x.clone()
    y.add_(1)
    y.mul_(2)
    return x, y

def shape_slice_unpack(x):
    h, w = x.shape[-2:]
    return x.view(-1, h * w), h, w

def new_zeros_cat(x):
    b = x.shape[0]
    y = x.new_zeros(b, 2)
    return torch.cat([x, y], 1)

def float_chain_minmax(a: float, b: float):
    return a < b < 10.0, (a > 0) == (b > 0), max(a, b) - min(a, b), float(int(a)) == a

def optional_float_scale(x, scale: Optional[float] = None):
    if scale is not None:
        x = x * scale
    return x

def rank_branch(x):
    if x.dim() == 2:
        x = x.unsqueeze(0)
    return x.shape[0], x.sum(0)

def where_loop(x):
    out = x
    for _ in range(3):
        out = torch.where(out > 0.5, out - 1.0, out + 0.25)
    return out

def while_countdown(x):
    n = x.size(0)
    total = torch.zeros(1)
    i = n - 1
    while i >= 0:
        total = total + x[i] * i
        i -= 1
    return total
"""


def run_case(src: str, name: str, args: tuple[Any, ...]) -> None:
    """Eager xjit against eager PyTorch, scripted xjit against torch.jit.script."""
    ours_py, theirs_py = both_fns(src, name)
    want_eager = theirs_py(*to_torch(args))
    assert_same(ours_py(*args), want_eager, f"eager {name}")
    theirs = real_torch.jit.script(theirs_py)
    want = theirs(*to_torch(args))
    ours = xjit.jit.script(ours_py)
    assert_same(ours(*args), want, f"script {name}")


S, SC, OP, TU, TE = CONTROL_FLOW, SCALARS, OPTIONAL, TUPLES, TENSORS
PR, IS, MO = PROMOTION, ISINSTANCE, MORE
CASES: list[tuple[str, str, tuple[Any, ...]]] = [
    # control flow
    (S, "nested_break", (t(3),)),
    (S, "nested_continue", (t(2), 6)),
    (S, "nested_continue", (t(2), 0)),
    (S, "nested_return", (t(2), 4)),
    (S, "nested_return", (t(2), 2)),
    (S, "while_tensor_cond", (t(3, lo=0.5, hi=1.0),)),
    (S, "while_implicit_tensor_cond", (t(2, 2),)),
    (S, "if_implicit_tensor_cond", (t(4),)),
    (S, "while_break_on_tensor", (t(3),)),
    (S, "while_continue", (t(2), 7)),
    (S, "range_step", (t(2),)),
    (S, "range_two_args", (6,)),
    (S, "range_two_args", (1,)),
    (S, "loop_carried_mixed", (t(2),)),
    (S, "if_defines_var", (t(2), True)),
    (S, "if_defines_var", (t(2), False)),
    (S, "elif_chain", (t(2), -3)),
    (S, "elif_chain", (t(2), 0)),
    (S, "elif_chain", (t(2), 3)),
    (S, "elif_chain", (t(2), 9)),
    (S, "early_return_while", (30,)),
    (S, "loop_over_tuple_of_ints", (t(2),)),
    (S, "loop_zero_trips", (t(2), 0)),
    (S, "loop_zero_trips", (t(2), -2)),
    (S, "return_in_else", (t(2), 5)),
    (S, "return_in_else", (t(2), 1)),
    (S, "break_then_use", (t(2),)),
    (S, "while_true_break", (t(2),)),
    (S, "if_shape_cond", (t(3, 2),)),
    (S, "if_shape_cond", (t(2, 2),)),
    (S, "loop_shrinks_tensor", (t(5, 2),)),
    (S, "loop_grows_tensor", (t(2, 3),)),
    # scalars
    (SC, "int_ops", (7, 3)),
    (SC, "int_ops", (-7, 3)),
    (SC, "float_ops", (7.5, -2.0)),
    (SC, "float_ops", (-1.25, 0.5)),
    (SC, "mixed_ops", (5, 2.5)),
    (SC, "mixed_ops", (-5, -1.5)),
    (SC, "bool_ops", (True, False)),
    (SC, "bool_ops", (True, True)),
    (SC, "chained", (1, 2, 3)),
    (SC, "chained", (1, 3, 2)),
    (SC, "chained", (2, 2, 2)),
    (SC, "ternary", (4, 2)),
    (SC, "ternary", (-1, -1)),
    (SC, "divmod_int", (17, 5)),
    (SC, "divmod_int", (-17, 5)),
    (SC, "divmod_float", (7.5, 2.0)),
    (SC, "divmod_float", (-7.5, 2.0)),
    (SC, "round_builtin", (2.5,)),
    (SC, "round_builtin", (-1.7,)),
    (SC, "math_funcs", (1.3,)),
    (SC, "math_funcs", (-2.6,)),
    (SC, "math_consts", (0.5,)),
    (SC, "min_max_abs", (-3, 4, -0.25)),
    (SC, "int_float_casts", (-2.75, 0)),
    (SC, "int_float_casts", (3.5, 4)),
    (SC, "pow_mixed", (3, 0.5)),
    (SC, "pow_mixed", (-2, 2.0)),
    (SC, "augmented", (5, 1.5)),
    (SC, "and_or_values", (1, 2)),
    (SC, "and_or_values", (-1, 2)),
    (SC, "and_or_values", (-1, -2)),
    (SC, "short_circuit_div", (t(2), 0)),
    (SC, "short_circuit_div", (t(2), 3)),
    (SC, "short_circuit_or", (t(2), 0)),
    (SC, "short_circuit_or", (t(2), 20)),
    (SC, "tensor_bools_and", (t(3, lo=0.1, hi=1.0),)),
    (SC, "tensor_bools_and", (t(3, lo=-1.0, hi=-0.1),)),
    (SC, "tensor_bools_or_not", (t(3, lo=0.25, hi=1.0),)),
    (SC, "tensor_bools_or_not", (t(3),)),
    (SC, "scalar_from_tensor", (t(3),)),
    (SC, "int_of_tensor", (t(4),)),
    (SC, "scalar_tensor_ops", (t(3, lo=0.25, hi=2.0), 2, 1.5)),
    (SC, "int_tensor_div", (ints(5),)),
    (SC, "bool_tensor_ops", (t(4), t(4))),
    (SC, "compare_int_float", (2, 2.0)),
    (SC, "compare_int_float", (2, 2.5)),
    (SC, "neg_mod", (7, 3)),
    (SC, "float_mod_neg", (7.5, 2.0)),
    # Optional
    (OP, "opt_default", (t(2),)),
    (OP, "opt_default", (t(2), t(2))),
    (OP, "opt_int", (t(2),)),
    (OP, "opt_int", (t(2), 5)),
    (OP, "opt_assert", (t(2), t(2))),
    (OP, "opt_local_reassign", (t(2), True)),
    (OP, "opt_local_reassign", (t(2), False)),
    (OP, "opt_and", (t(2), None)),
    (OP, "opt_and", (t(2), t(2, lo=0.5, hi=1.0))),
    (OP, "opt_or", (t(2), None)),
    (OP, "opt_or", (t(2), t(2, lo=-1.0, hi=-0.5))),
    (OP, "opt_early_return", (t(2), None)),
    (OP, "opt_early_return", (t(2), t(2))),
    (OP, "opt_float", (None,)),
    (OP, "opt_float", (2.5,)),
    (OP, "opt_ternary", (t(2), None)),
    (OP, "opt_ternary", (t(2), t(2))),
    (OP, "opt_in_loop", (t(3), 4)),
    (OP, "opt_in_loop", (t(3), 0)),
    (OP, "opt_return", (t(2), True)),
    (OP, "opt_return", (t(2), False)),
    (OP, "opt_int_return", (3,)),
    (OP, "opt_int_return", (-3,)),
    (OP, "opt_not_none_else", (t(2), 4)),
    (OP, "opt_not_none_else", (t(2), None)),
    # tuples
    (TU, "nested_unpack", (t(2),)),
    (TU, "return_annotated", (t(2),)),
    (TU, "index_tuple", (t(2),)),
    (TU, "tuple_param", ((t(2), t(2)),)),
    (TU, "nested_tuple_param", ((t(2), (3, 0.5)),)),
    (TU, "swap_in_loop", (t(2), t(2))),
    (TU, "loop_carried_tuple", (t(2),)),
    (TU, "call_unpack", (t(2),)),
    (TU, "tuple_slice", (t(2),)),
    (TU, "nested_return", (t(2),)),
    (TU, "tuple_in_if", (t(2), True)),
    (TU, "tuple_in_if", (t(2), False)),
    (TU, "tuple_compare", (1, 2)),
    (TU, "tuple_compare", (2, 2)),
    (TU, "starred_assign", (t(3, 2),)),
    (TU, "chunk_unpack", (t(2, 4),)),
    (TU, "loop_over_tuple_of_tensors", (t(2),)),
    (TU, "tuple_of_sizes", (t(3, 4),)),
    # tensors
    (TE, "sizes", (t(2, 3, 4),)),
    (TE, "size_list", (t(3, 5),)),
    (TE, "views", (t(2, 3, 4),)),
    (TE, "view_from_sizes", (t(2, 3, 4),)),
    (TE, "permutes", (t(2, 3, 4),)),
    (TE, "flatten_t", (t(2, 3, 4),)),
    (TE, "squeezes", (t(2, 1, 3),)),
    (TE, "cat_stack", (t(2, 3), t(2, 3))),
    (TE, "matmuls", (t(2, 3), t(3, 4))),
    (TE, "batched_matmul", (t(2, 2, 3), t(2, 3, 4))),
    (TE, "reductions", (t(3, 4),)),
    (TE, "int_reductions", (ints(3, 4),)),
    (TE, "max_min", (t(3, 4),)),
    (TE, "max_min_unpack", (t(3, 4),)),
    (TE, "elementwise_max", (t(3), t(3))),
    (TE, "clamps", (t(6),)),
    (TE, "wheres", (t(5), t(5))),
    (TE, "masked_fills", (t(2, 3),)),
    (TE, "masked_fill_inf", (t(2, 4),)),
    (TE, "dtype_conversions", (t(5),)),
    (TE, "to_like", (t(3), ints(3))),
    (TE, "likes", (t(2, 3),)),
    (TE, "aranges", (5,)),
    (TE, "factories", (t(3),)),
    (TE, "new_factories", (t(3),)),
    (TE, "len_of_tensor", (t(3, 2),)),
    (TE, "iterate_tensor", (t(4, 3),)),
    (TE, "iterate_tensor_enumerate", (t(4, 3),)),
    (TE, "enumerate_zip_lists", (t(2), t(2))),
    (TE, "enumerate_start", (t(2),)),
    (TE, "isinstance_checks", (t(2), 1, 1.5)),
    (TE, "indexing", (t(4, 3),)),
    (TE, "index_with_ints", (t(4, 3), 1, 2)),
    (TE, "index_tensor", (t(4, 3), xjit.tensor([2, 0]))),
    (TE, "bool_mask_index", (t(3, 3),)),
    (TE, "unary_methods", (t(5, lo=0.25),)),
    (TE, "softmaxes", (t(2, 3),)),
    (TE, "comparisons", (t(4), t(4))),
    (TE, "expand_repeat", (t(1, 2),)),
    (TE, "cumulative", (t(3, 4),)),
    (TE, "contiguous_chain", (t(2, 3),)),
    (TE, "sum_dtype", (ints(2, 3),)),
    (TE, "shape_arith", (t(4, 3),)),
    (TE, "tensor_item_loop", (t(4),)),
    (TE, "topk_sort", (xjit.tensor([[0.5, 2.0, -1.0, 3.0, 0.0], [4.0, -2.0, 1.0, 0.25, 2.5]]),)),
    (TE, "chunk_loop", (t(6, 2),)),
    (TE, "tensor_truthiness", (t(6),)),
    (TE, "prod", (t(2, 3),)),
    (TE, "eye", (3,)),
    (TE, "square", (t(3),)),
    (TE, "all_any", (t(2, 3), ints(2, 3, lo=0, hi=2))),
    # dtype promotion
    (PR, "int_tensor_scalars", (ints(6),)),
    (PR, "float_floor_mod", (t(6),)),
    (PR, "mixed_dtype_tensors", (t(4), ints(4))),
    (PR, "bool_sum", (t(3, 2),)),
    (PR, "int_max_argmax", (ints(3, 4),)),
    (PR, "full_dtypes", (3,)),
    (PR, "arange_dtypes", (5, 3.5)),
    (PR, "scalar_tensor_compare", (ints(5).float(), 1, 0.5)),
    # isinstance (decided while compiling, as TorchScript does) and .item()
    (IS, "of_bool", (True, 3)),
    (IS, "of_containers", (t(2), (1, 2))),
    (IS, "of_optional", (t(2), None)),
    (IS, "of_optional", (t(2), t(2))),
    (IS, "item_of", (t(3), ints(3))),
    # calls with defaults and Optional arguments, loops that rebind their bounds, mixed
    (MO, "range_bound_rebound", (t(2), 5)),
    (MO, "loop_var_rebound", (t(2),)),
    (MO, "while_and_tensor_cond", (t(2, lo=0.5, hi=1.0), 10)),
    (MO, "while_and_tensor_cond", (t(2, lo=0.5, hi=1.0), 1)),
    (MO, "calls_defaults_optional", (t(2),)),
    (MO, "size_equality", (t(2, 3), t(2, 3))),
    (MO, "size_equality", (t(2, 3), t(3, 2))),
    (MO, "aug_add_in_loop", (t(2),)),
    (MO, "alias_aug_add", (t(2),)),
    (MO, "assert_message", (t(2), 3)),
    (MO, "jit_annotate", (t(2),)),
    (MO, "tuple_ternary", (t(2), True)),
    (MO, "tuple_ternary", (t(2), False)),
    (MO, "nested_if_assign", (1, -1)),
    (MO, "nested_if_assign", (-1, 1)),
    (MO, "nested_if_assign", (-1, -1)),
    (MO, "while_true_continue_break", (t(2),)),
    (MO, "for_inner_break_count", (t(2),)),
    (MO, "tensor_cond_rescale", (t(3, lo=1.5, hi=3.0),)),
    (MO, "tensor_cond_rescale", (t(3, lo=-1.0, hi=0.5),)),
    (MO, "tensor_cond_ternary", (t(3), t(3))),
    (MO, "clone_inplace_methods", (t(2),)),
    (MO, "shape_slice_unpack", (t(2, 3, 4),)),
    (MO, "new_zeros_cat", (t(3, 2),)),
    (MO, "float_chain_minmax", (1.5, 2.5)),
    (MO, "float_chain_minmax", (-3.0, 2.0)),
    (MO, "optional_float_scale", (t(2),)),
    (MO, "optional_float_scale", (t(2), 2.0)),
    (MO, "rank_branch", (t(2, 3),)),
    (MO, "rank_branch", (t(1, 2, 3),)),
    (MO, "where_loop", (t(5),)),
    (MO, "while_countdown", (t(4),)),
]

# Programs TorchScript compiles that xjit refuses, with the message of the located FrontendError
# (an Optional that is None on one path and a value on another needs an optional type at run
# time; ops not in the registry).
REFUSED: dict[str, str] = {}


@pytest.mark.parametrize(("src", "name", "args"), CASES, ids=[c[1] for c in CASES])
def test_sweep(src: str, name: str, args: tuple[Any, ...]) -> None:
    if name not in REFUSED:
        run_case(src, name, args)
        return
    assert_refused(src, name, args, REFUSED[name])


# -- tracing: xjit.jit.trace against torch.jit.trace, on the example and on new inputs ---------

TRACED = """
def chain(x, y):
    return torch.tanh(x @ y.t() + 1).sum(-1)

def sized_view(x):
    return x.view(x.size(0), -1).mean(1), x.reshape(-1, x.shape[-1])

def cat_stack(x, y):
    return torch.cat([x, y], 0), torch.stack([x, y], 1), torch.cat((x, y * 2), dim=-1)

def max_with_dim(x):
    v, i = x.max(1)
    return v * 2, i, x.argmax(0), x.min(-1).values

def reductions(x):
    return x.sum(0, keepdim=True), x.mean(), x.amax(1), x.clamp(-0.5, 0.5).sum(1)

def nested_out(x, y):
    return (x + y, (x - y, [x * y, x / (y.abs() + 1)]))

def dict_out(x):
    return {"a": x + 1, "b": x.sum(0)}

def masks(x, y):
    m = (x > 0) & (y < 0.5)
    return torch.where(m, x, y), x.masked_fill(~m, 0.0), m.sum()

def dtypes(x):
    i = x.to(torch.int64)
    return i * 2, i + x, x.long().float() / 3

def size_arith(x):
    n = x.size(0)
    return torch.arange(n) * 2, torch.zeros(n, 2), x[: n - 1], torch.full((n,), 3.0)

def permute_contig(x):
    return x.permute(1, 0, 2).contiguous().view(x.size(1), -1), x.transpose(0, 2).flatten(1)
"""

# (function, example args, a call with other shapes/values, strict)
TRACE_CASES: list[tuple[str, tuple[Any, ...], tuple[Any, ...], bool]] = [
    ("chain", (t(3, 4), t(2, 4)), (t(3, 4), t(2, 4)), True),
    ("sized_view", (t(2, 3, 4),), (t(5, 3, 4),), True),
    ("cat_stack", (t(2, 3), t(2, 3)), (t(4, 3), t(4, 3)), True),
    ("max_with_dim", (t(3, 4),), (t(3, 4),), True),
    ("reductions", (t(3, 4),), (t(6, 4),), True),
    ("nested_out", (t(3), t(3)), (t(3), t(3)), True),
    ("dict_out", (t(2, 3),), (t(2, 3),), False),
    ("masks", (t(5), t(5)), (t(5), t(5)), True),
    ("dtypes", (t(4),), (t(4),), True),
    ("size_arith", (t(4, 2),), (t(7, 2),), True),
    ("permute_contig", (t(2, 3, 4),), (t(5, 3, 4),), True),
]


def to_torch_nested(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: to_torch_nested(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return type(v)(to_torch_nested(x) for x in v)
    return to_torch(v)


def assert_same_nested(got: Any, want: Any, where: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for k in want:
            assert_same_nested(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same_nested(g, w, f"{where}[{i}]")
    else:
        assert_same(got, want, where)


@pytest.mark.parametrize(
    ("name", "example", "other", "strict"), TRACE_CASES, ids=[c[0] for c in TRACE_CASES]
)
def test_trace_sweep(
    name: str, example: tuple[Any, ...], other: tuple[Any, ...], strict: bool
) -> None:
    ours_py, theirs_py = both_fns(TRACED, name)
    theirs = real_torch.jit.trace(theirs_py, to_torch(example), strict=strict)
    with warnings.catch_warnings():
        warnings.simplefilter(
            "error", xjit.jit.TracerWarning
        )  # check_trace agrees, no frozen values
        ours = xjit.jit.trace(ours_py, example, strict=strict)
    for args in (example, other):
        want = theirs(*to_torch(args))
        assert_same_nested(ours(*args), want, f"trace {name}")
        assert_same_nested(ours_py(*args), theirs_py(*to_torch_nested(args)), f"eager {name}")


WARNED = """
def data_branch(x):
    if x.sum() > 0:
        return x * 2
    return x - 1

def python_int(x):
    return x * int(x.max())

def numpy_of(x):
    return x + float(x[0])

def iterate_rows(x):
    acc = x[0] * 0
    for r in x:
        acc = acc + r
    return acc
"""


@pytest.mark.parametrize("name", ["data_branch", "python_int", "numpy_of", "iterate_rows"])
def test_tracer_warning_sites(name: str) -> None:
    """Where torch.jit.trace warns that a value was frozen, xjit warns too (and guards it)."""
    ours_py, theirs_py = both_fns(WARNED, name)
    x = t(4, lo=0.25, hi=1.0)
    with pytest.warns(real_torch.jit.TracerWarning):
        real_torch.jit.trace(theirs_py, to_torch((x,)), check_trace=False)
    with pytest.warns(xjit.jit.TracerWarning):
        traced = xjit.jit.trace(ours_py, (x,), check_trace=False)
    assert_same(traced(x), theirs_py(to_torch(x)), name)


# -- modules: containers iterated with zip/enumerate, attributes, training --------------------

MODULES = """
class Blocks(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([torch.nn.Linear(3, 3), torch.nn.Linear(3, 3)])
        self.seq = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh())
        self.scales = (0.5, 2.0)

    def forward(self, x):
        for layer, s in zip(self.layers, self.scales):
            x = layer(x) * s
        for i, m in enumerate(self.seq):
            x = m(x) + i
        n = len(self.layers)
        if self.training:
            x = x * n
        return x, n, isinstance(x, torch.Tensor)

class Rows(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(2, 2)

    def forward(self, x):
        out = torch.zeros(x.size(0))
        for i, row in enumerate(x):
            out[i] = self.proj(row).sum() * i
        return out, x.ndim, x.mT.shape[0]
"""


@pytest.mark.parametrize(("cls", "x"), [("Blocks", t(2, 3)), ("Rows", t(4, 2))])
def test_module_sweep(cls: str, x: xjit.Tensor) -> None:
    ours_m = load(MODULES, xjit)[cls]()
    theirs_m = load(MODULES, real_torch)[cls]()
    theirs_m.load_state_dict({k: to_torch(v) for k, v in ours_m.state_dict().items()})
    ours, theirs = xjit.jit.script(ours_m), real_torch.jit.script(theirs_m)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        want = theirs(to_torch(x))
        assert_same(ours(x), want, f"{cls} {mode}")
        getattr(ours_m, mode)()
        assert_same(ours_m(x), want, f"eager {cls} {mode}")


RANK_CHANGE = """
def grow(x):
    res = torch.empty(0)
    for i in range(x.size(0)):
        if i == 0:
            res = x[i : i + 1]
        else:
            res = torch.cat([res, x[i : i + 1] * i])
    return res
"""


def test_a_loop_carried_rank_change_over_an_int_parameter() -> None:
    """Compiled per value of n, where the loop unrolls (each iteration its own rank)."""
    src = """
def regrow(n: int):
    res = torch.zeros(3)
    for i in range(n):
        res = torch.zeros(2, 2) + i
    return res
"""
    ours_py, theirs_py = both_fns(src, "regrow")
    for n in (0, 2):
        assert_same(xjit.jit.script(ours_py)(n), real_torch.jit.script(theirs_py)(n), f"n={n}")


def test_a_loop_changing_a_rank_is_refused_at_its_line() -> None:
    """TorchScript runs it (its Tensor type has no rank); xjit cannot lower a value of no fixed
    rank and says where it is made, instead of an unlocated lowering error."""
    ours_py, theirs_py = both_fns(RANK_CHANGE, "grow")
    x = t(3, 2)
    assert real_torch.jit.script(theirs_py)(to_torch(x)).shape == (3, 2)
    with pytest.raises(DiagnosticException, match=r"\.py:4:5: cannot lower") as info:
        xjit.jit.script(ours_py)(x)
    assert "rank and dtype must be known" in str(info.value)


def test_a_slice_of_a_size_is_a_size() -> None:
    x = t(3, 4, 5)
    for s in (slice(1, None), slice(None, -1), slice(None, None, 2)):
        got, want = x.shape[s], to_torch(x).shape[s]
        assert isinstance(got, xjit.Size) and isinstance(want, real_torch.Size)
        assert tuple(got) == tuple(want)
    assert type(x.shape[0]) is int
