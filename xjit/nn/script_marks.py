"""`is_scripting()` (torch.jit.is_scripting, here so that nn modules can call it) and the mark
that tells `xjit.jit.script` how to compile a call of a functional wrapper whose
arguments differ from its registry op's (F.embedding(input, weight) is aten::embedding(weight,
indices)); shared by xjit/nn/functional.py and xjit/nn/conv_functional.py."""

from __future__ import annotations

from typing import Any


def script_as(op_args: Any) -> Any:
    """Marks a wrapper that `xjit.jit.script` compiles as one registry op call: `op_args(**args)`
    gives the (op name, arguments); the wrapper's body (Python-level argument handling) is not
    compiled."""

    def mark(fn: Any) -> Any:
        fn.__xjit_op__ = op_args
        return fn

    return mark


def per_value(*names: str) -> Any:
    """Marks a scripted function whose bool parameters `names` decide its result's structure
    (`need_weights=False` returns None for the weights): `xjit.jit.script` compiles them as
    constants, per value where a call passes one known while compiling, else at their default
    with a run-time check that the value passed is that default."""

    def mark(fn: Any) -> Any:
        fn.__xjit_per_value__ = names
        return fn

    return mark


def is_scripting() -> bool:
    """False when run eagerly; scripted code sees True (its other branch is not compiled)."""
    return False
