"""`torch.special`: torch's names in that namespace for registry ops (`gammaln` is `lgamma`,
`psi` is `digamma`, `expit` is `sigmoid`, ...). Each is one op call, marked so a scripted
call compiles to that op (or is refused as the op is)."""

from __future__ import annotations

from typing import Any

from xjit._dispatch import call
from xjit.nn.script_marks import script_as


def _unary(op: str, name: str) -> Any:
    @script_as(lambda input: (op, [input]))
    def fn(input: Any) -> Any:  # noqa: A002  (torch's argument name)
        return call(op, input)

    fn.__name__ = fn.__qualname__ = name
    return fn


erf = _unary("erf", "erf")
erfinv = _unary("erfinv", "erfinv")
gammaln = _unary("lgamma", "gammaln")
digamma = _unary("digamma", "digamma")
psi = _unary("digamma", "psi")
expit = _unary("sigmoid", "expit")
expm1 = _unary("expm1", "expm1")
exp2 = _unary("exp2", "exp2")
log1p = _unary("log1p", "log1p")


@script_as(lambda n, input: ("polygamma", [n, input]))
def polygamma(n: int, input: Any) -> Any:  # noqa: A002
    return call("polygamma", n, input)


@script_as(lambda input, eps=None: ("logit", [input, eps]))
def logit(input: Any, eps: Any = None) -> Any:  # noqa: A002
    return call("logit", input, eps)


@script_as(lambda input, other: ("xlogy", [input, other]))
def xlogy(input: Any, other: Any) -> Any:  # noqa: A002
    return call("xlogy", input, other)


@script_as(lambda input, dim, keepdim=False: ("logsumexp", [input, dim, keepdim]))
def logsumexp(input: Any, dim: Any, keepdim: bool = False) -> Any:  # noqa: A002
    return call("logsumexp", input, [dim] if isinstance(dim, int) else list(dim), keepdim)
