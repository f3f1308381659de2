"""The scripting frontend: Python source (`inspect` + `ast`) to the torch dialect, keeping
control flow as `torch.prim.If` / `torch.prim.Loop` (see docs/frontends.md for the subset).

One `ModuleCompilation` (module_compilation.py) builds one ModuleOp, compiling each function with
a `FunctionCompiler` (compiler.py): the scripted function as `@forward` (or its name),
every submodule's `forward` it reaches as a private `func.func @<path>.forward` called with
`func.call`, and every parameter/buffer as a `torch.global_slot` named by its dotted path from the
root module. Already compiled submodules (traced or scripted) are imported, not recompiled.

Values during compilation are either SSA values (typed `!torch.*`) or compile-time Python
things: tuples/lists of values, submodules, functions, dtypes. Tensors without annotations are
`!torch.vtensor` (nothing known); `torch-shape-refinement` specialises them later.

Control flow: an `if` whose branches both fall through yields the variables it changes; an `if`
containing `return`/`break`/`continue` gets the statements after it appended to each branch
that falls through, so every path ends in an exit and the `prim.If` yields that exit's values
(the function's return values, or a loop body's next condition + carried values).

Loops containing a `return` carry a "returned" flag and the return values; tuples (nested too)
are carried and joined leaf by leaf; lists have a compile-time length (see lists.py).

Modules: `values` (compile-time values, script types, annotations), `module_compilation` (the
ModuleOp being built), `statements` (control flow), `expressions`, `lists` (List[T] operations,
comprehensions), `module_values` (ModuleList / Sequential / ModuleDict iterated and indexed
while compiling), `calls` (submodules, methods, scripted functions, builtins), `registry_ops`
(binding and emitting registry ops, dtype inference for unknown dtypes, constant folding),
`compiler` (the function compiler and the entry points). This package re-exports what `xjit.frontends.script` always held.
"""

from xjit.frontends.builder import IRValue
from xjit.frontends.script.compiler import (
    FunctionCompiler,
    ScriptResult,
    function_ir,
    script_function_ir,
    script_module_ir,
)
from xjit.frontends.script.module_compilation import ModuleCompilation
from xjit.frontends.script.registry_ops import bind_ir
from xjit.frontends.script.statements import INT64_MAX, Env, Frame
from xjit.frontends.script.values import (
    TENSOR,
    ModRef,
    PyList,
    PyObj,
    PyTuple,
    annotation_type,
    describe,
    join_types,
    type_name,
)

__all__ = [
    "INT64_MAX",
    "TENSOR",
    "Env",
    "Frame",
    "FunctionCompiler",
    "IRValue",
    "ModRef",
    "ModuleCompilation",
    "PyList",
    "PyObj",
    "PyTuple",
    "ScriptResult",
    "annotation_type",
    "bind_ir",
    "describe",
    "function_ir",
    "join_types",
    "script_function_ir",
    "script_module_ir",
    "type_name",
]
