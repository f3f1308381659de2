"""The ModuleOp one scripting run builds: its functions, global slots, parameters, and the
already compiled graphs it imports."""

from __future__ import annotations

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.ir import Attribute

from xjit._tensor import Tensor
from xjit.dialects import torch as td
from xjit.frontends.signature import OutputSpec
from xjit.nn.module import Module


class ModuleCompilation:
    """The ModuleOp being built for one root: functions, slots and what they were compiled from."""

    def __init__(self, root: Module | None, params: dict[str, Tensor] | None = None) -> None:
        self.root = root
        self.funcs: dict[str, func.FuncOp] = {}
        self.slots: dict[str, Attribute] = {}
        self.params: dict[str, Tensor] = dict(params or {})
        self.compiled_paths: dict[int, str] = {}  # id(function/module) -> func name
        self.specs: dict[str, OutputSpec] = {}
        self.in_progress: set[str] = set()
        self.training_override: dict[int, bool] = {}  # id(module) -> its `training` here
        self.reads_training = False
        self.needs_arg_types = False  # a guess that argument ranks and dtypes would make exact
        self.deferrable = False  # may ask for a compile per argument types (NeedsArgTypes)
        # a list slice with bounds known at run time: compile per int argument values (lists.py)
        self.needs_int_values = False
        self.typed_calls = False  # submodule methods compiled per argument types (NeedsCallTypes)
        self.typed_call_names: dict[tuple[str, str], int] = {}
        self.root_view: Module | None = (
            None  # where the root's attributes are read (a ScriptModule)
        )
        self.attr_reads: list[tuple[str, str]] = []  # (module path, attribute) read as values

    def module_op(self, first: str) -> ModuleOp:
        slots = [td.GlobalSlotOp(n, t) for n, t in self.slots.items()]
        funcs = [self.funcs[first]] + [f for n, f in self.funcs.items() if n != first]
        return ModuleOp([*slots, *funcs])

    def import_graph(
        self,
        graph: ModuleOp,
        prefix: str,
        params: dict[str, Tensor],
        spec: OutputSpec,
        entry: str = "forward",
    ) -> str:
        """Copy the functions and slots of an already compiled module under `prefix.`; returns the
        name its entry function gets here."""

        def rename(name: str) -> str:
            return f"{prefix}.{name}" if prefix else name

        entry_name = rename(entry)
        if entry_name in self.funcs:
            return entry_name
        g = graph.clone()
        for op in list(g.ops):
            if isinstance(op, td.GlobalSlotOp):
                self.slots[rename(op.sym_name.data)] = op.type
        for op in g.walk():
            if isinstance(op, td.GlobalSlotGetOp):
                op.slot = td.SymbolRefAttr(rename(op.slot.root_reference.data))
                op.properties["slot"] = op.slot
            elif isinstance(op, func.CallOp):
                op.properties["callee"] = td.SymbolRefAttr(rename(op.callee.root_reference.data))
        for op in list(g.ops):
            if isinstance(op, func.FuncOp):
                op.detach()
                new = rename(op.sym_name.data)
                op.sym_name = StringAttr(new)
                op.properties["sym_name"] = StringAttr(new)
                op.sym_visibility = StringAttr("private")
                op.properties["sym_visibility"] = StringAttr("private")
                self.funcs[new] = op
        for k, t in params.items():
            self.params[rename(k)] = t
        self.specs[entry_name] = spec
        return entry_name
