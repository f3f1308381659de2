"""What the frontends and the jit API share about a compiled graph's Python side: how its flat
results rebuild the Python return value (`OutputSpec`), the meta of an eager tensor argument
(`meta_of`), `GraphSource`, the base of compiled callables whose graph a scripted or traced
caller imports, and the markers scripted code calls (`is_scripting`, `is_tracing`, `annotate`,
exported as xjit.jit's), which the script frontend recognises by identity. No xDSL here: the archive reader and the CLI use it without the compiler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from xjit import _dispatch
from xjit._tensor import Tensor
from xjit.nn.script_marks import is_scripting  # noqa: F401  (defined below the nn modules)
from xjit.ops.types import TensorMeta, from_numpy_dtype


def meta_of(t: Tensor) -> TensorMeta:
    a = t._a  # (not numpy(): while tracing, that is the user taking data out of the trace)
    return TensorMeta(tuple(a.shape), from_numpy_dtype(a.dtype))


@dataclass
class OutputSpec:
    """How the flat results of the compiled function rebuild the Python return value."""

    kind: str  # "tensor" | "tuple" | "list" | "dict" | "none" (the last two: torch.export)
    # | "optional": a script's `-> Optional[T]`, a bool result then the child's (the value
    # when the bool is true, else None)
    # | "const": a value known while compiling (a script's str result), `keys[0]`, no flat value
    # | "choice": a script's str result chosen at run time, `keys[flat int]`
    children: tuple[OutputSpec, ...] = ()
    keys: tuple[Any, ...] = ()  # a dict's keys, one per child
    # a tuple's named-tuple class (torch.return_types.sort, as eager returns), rebuilt as such
    named: Any = field(default=None, compare=False)

    def rebuild(self, flat: Sequence[Any], pos: int = 0) -> tuple[Any, int]:
        if self.kind == "tensor":
            return flat[pos], pos + 1
        if self.kind == "none":  # a None result: no flat value
            return None, pos
        if self.kind == "const":
            return self.keys[0], pos
        if self.kind == "optional":
            item, end = self.children[0].rebuild(flat, pos + 1)
            return (item if flat[pos] else None), end
        if self.kind == "choice":
            return self.keys[int(flat[pos])], pos + 1
        items = []
        for c in self.children:
            item, pos = c.rebuild(flat, pos)
            items.append(item)
        if self.kind == "dict":
            return dict(zip(self.keys, items, strict=True)), pos
        if self.kind == "tuple":
            return (tuple(items) if self.named is None else self.named(*items)), pos
        return items, pos

    def describe(self) -> str:
        if self.kind in ("tensor", "none"):
            return "Tensor" if self.kind == "tensor" else "None"
        if self.kind == "const":
            return repr(self.keys[0])
        if self.kind == "optional":
            return f"Optional[{self.children[0].describe()}]"
        if self.kind == "choice":
            return "str"
        inner = ", ".join(
            f"{k!r}: {c.describe()}" if self.kind == "dict" else c.describe()
            for k, c in zip(self.keys or [None] * len(self.children), self.children, strict=True)
        )
        return {"tuple": f"({inner})", "list": f"[{inner}]", "dict": f"{{{inner}}}"}[self.kind]

    def leaves(self) -> int:
        """How many flat results this structure takes (a None takes none)."""
        if self.kind in ("tensor", "none", "const", "choice"):
            return 1 if self.kind in ("tensor", "choice") else 0
        return sum(c.leaves() for c in self.children) + (self.kind == "optional")


def is_tracing() -> bool:
    """True while `xjit.jit.trace` runs the function (the branch taken is what the trace
    records); False when run eagerly, and in scripted code (as in TorchScript)."""
    return _dispatch.current_recorder() is not None


def annotate(the_type: Any, the_value: Any) -> Any:
    """`torch.jit.annotate(List[int], [])`: the value; its type is a hint for the scripter."""
    return the_value


class GraphSource:
    """A compiled module or function (xjit.jit's TracedModule, ScriptModule, ScriptFunction)
    whose graph is imported, not re-compiled, when scripted or traced code calls it. The jit
    classes derive from this class, so the frontends recognise them without importing the jit
    API (the layer above them)."""

    def graph_source(self) -> dict[str, Any]:
        """`ir` (the graph's ModuleOp), `params` (name -> tensor), `spec` (OutputSpec),
        `arg_names`, `defaults` and `entry` (the function to call)."""
        raise NotImplementedError
