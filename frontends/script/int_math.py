"""`math.factorial` and `math.gcd` on ints, written in the scripted subset and compiled as
called functions (`@fn.factorial`): TorchScript's aten::factorial / aten::gcd are C++ loops and
xjit has no scalar op for them. Messages are TorchScript's."""

from __future__ import annotations


def factorial(n: int) -> int:
    if n < 0:
        raise RuntimeError("factorial() not defined for negative values")
    r = 1
    i = 2
    while i <= n:
        r = r * i
        i += 1
    return r


def gcd(a: int, b: int) -> int:
    while b != 0:
        a, b = b, a % b  # Euclid; the sign of % does not change the result's magnitude
    return abs(a)
