"""The layering of docs/architecture.md, checked on the import graph of every xjit module.

The graph is built from the AST (no module is imported): every `import` and `from ... import`
of an xjit module, at module level, under `if TYPE_CHECKING:` and inside functions. It must
have no cycle and no import from a lower layer to a higher one:

    eager ops -> dialect -> frontends -> passes -> backends -> jit API -> CLI

(a layer may import the layers before it). An import inside a function is allowed only where it
is deliberate laziness (not loading xDSL or the compiler before it is needed): it must carry a
`# lazy: <why>` comment (on its line or in the comments just above it), and its module must be
in `LAZY` below, which says why that module defers imports. Those imports are checked like any
other: downward only, no cycle.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Source folder -> the package it is installed as (pyproject.toml's package-dir).
PACKAGES = {
    "xjit": "xjit",
    "dialects": "xjit.dialects",
    "frontends": "xjit.frontends",
    "passes": "xjit.passes",
    "backends": "xjit.backends",
}

# Lowest first. A module belongs to the first layer with a prefix of its name.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("eager ops", ("xjit.ops", "xjit.nn", "xjit._", "xjit.errors")),
    ("dialect", ("xjit.dialects",)),
    ("frontends", ("xjit.frontends",)),
    ("passes", ("xjit.passes",)),
    ("backends", ("xjit.backends",)),
    ("jit API", ("xjit.jit",)),
    ("CLI", ("xjit.opt", "xjit.run", "xjit.universe", "xjit.import_cli")),
]
# The package `xjit` itself is the eager API (`import xjit as torch`): the top of the eager layer.
# (It reaches `xjit.jit` through `importlib`, as a lazily loaded submodule attribute, which is not
# an import statement: the jit API is above it.)
PACKAGE_LAYER = {"xjit": "eager ops"}

# Modules that defer some of their imports, and why. Every deferred import carries a
# `# lazy:` comment too.
LAZY: dict[str, str] = {
    "xjit.import_cli": "xjit-import --help answers without loading torch",
    "xjit.jit.imported": "torch loads only when a model is imported",
    "xjit._tensor": "shape_ops registers ops when imported: the op modules load together",
    "xjit.ops.registry": "the op modules load on the first op used, not on `import xjit`",
    "xjit.ops.shape_ops": "lowerings import xDSL helpers only when they run",
    "xjit.ops.index_ops": "lowerings import xDSL helpers only when they run",
    "xjit.dialects": "each dialect (and xDSL) loads when a context first asks for it",
    "xjit.passes": "xDSL and the torch dialect load with the first pass used",
    "xjit.backends.numpy.target": "xdsl-opt lists targets without loading the code generator",
    "xjit.backends.numpy.program": "a compile-cache hit loads without the code generator",
    "xjit.jit.api": "the tracing frontend loads on the first trace",
    "xjit.jit.script_api": "the scripting frontend and the compiler load on first use",
    "xjit.jit.compiled": "the compiler loads on the first compile",
    "xjit.jit.variants": "the torch dialect and passes load only when a variant is compiled",
    "xjit.jit.archive_format": "the torch dialect loads only with a graph to describe",
    "xjit.jit.archive_read": "an archive loads without the compiler until a method compiles",
    "xjit.jit.archive_write": "the torch dialect loads only when a graph is written",
    "xjit.jit": "freeze loads the torch interpreter and xDSL's rewriter on first use",
    "xjit.opt": "the fusion report loads only with --fusion-report",
    "xjit.run": "xjit-run loads only what its input needs",
    "xjit.universe": "xdsl-opt starts without loading the code generator",
}

# Known violations being removed by other work, each with the work that removes it. Delete an
# entry when that work is merged; the test then holds those modules to the rules above.
PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    local: bool  # inside a function
    marked: bool  # carries a `# lazy:` comment


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = [package, *path.relative_to(ROOT / folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _target(name: str) -> str | None:
    """The xjit module an imported name lives in (`xjit.ops.registry.OpDef` -> the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _resolve(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = node.module or ""
    if node.level:
        package = importer.split(".")
        if MODULES[importer].name != "__init__.py":
            package.pop()
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{a.name}" for a in node.names]


def _marked(lines: list[str], lineno: int) -> bool:
    """A `# lazy:` comment on the import's line, or in the comments and imports just above."""
    i = lineno - 1
    if "# lazy:" in lines[i]:
        return True
    i -= 1
    while i >= 0:
        text = lines[i].strip()
        if "# lazy:" in text:
            return True
        if text and not text.startswith(("#", "from ", "import ", ")")) and "," not in text[-1:]:
            return False
        i -= 1
    return False


def _imports(module: str, path: Path) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                for name in _resolve(child, module):
                    target = _target(name)
                    if target is not None and target != module:
                        found.append(
                            Import(
                                module,
                                target,
                                child.lineno,
                                in_function,
                                _marked(lines, child.lineno),
                            )
                        )
            local = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, local)

    visit(ast.parse(source, str(path)), False)
    return found


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def layer_of(module: str) -> int:
    names = [name for name, _ in LAYERS]
    if module in PACKAGE_LAYER:
        return names.index(PACKAGE_LAYER[module])
    for rank, (_, prefixes) in enumerate(LAYERS):
        # "xjit._" covers xjit._tensor, xjit._dispatch, ...; other prefixes are packages.
        if any(
            module == p or module.startswith(p if p.endswith("_") else p + ".") for p in prefixes
        ):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layering.py")


def _where(imp: Import) -> str:
    return f"{MODULES[imp.importer].relative_to(ROOT)}:{imp.line}"


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_upward_import() -> None:
    upward = [
        f"{_where(i)}: {i.importer} ({LAYERS[layer_of(i.importer)][0]}) imports {i.imported} "
        f"({LAYERS[layer_of(i.imported)][0]})"
        for i in IMPORTS
        if layer_of(i.imported) > layer_of(i.importer)
    ]
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def test_no_import_cycle() -> None:
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for i in IMPORTS:
        edges[i.importer].add(i.imported)
    cycles = [c for c in _cycles(edges) if not set(c) <= set(PENDING)]
    assert not cycles, "import cycles (module-level and function-level imports):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


def test_deferred_imports_are_deliberate() -> None:
    """A function-level import of an xjit module only for laziness, and said so."""
    bad = [
        f"{_where(i)}: {i.importer} imports {i.imported} inside a function"
        + ("" if i.importer in LAZY else " (module not in LAZY)")
        + ("" if i.marked else " (no `# lazy:` comment)")
        for i in IMPORTS
        if i.local and i.importer not in PENDING and not (i.importer in LAZY and i.marked)
    ]
    assert not bad, "function-level imports that are not deliberate laziness:\n" + "\n".join(bad)


def test_lazy_and_pending_lists_are_current() -> None:
    """No stale entries: each LAZY module still defers an import, each PENDING one exists."""
    deferring = {i.importer for i in IMPORTS if i.local}
    assert set(LAZY) <= deferring, set(LAZY) - deferring
    assert set(PENDING) <= set(MODULES), set(PENDING) - set(MODULES)


def test_import_xjit_stays_free_of_xdsl() -> None:
    """`import xjit` (the eager API) loads neither xDSL nor the compiler, in a fresh process."""
    import subprocess
    import sys

    code = (
        "import sys, xjit; xjit.tanh(xjit.ones(2)); "
        "print(sorted(m for m in sys.modules if m.startswith(('xdsl', 'xjit.dialects', "
        "'xjit.passes', 'xjit.frontends', 'xjit.backends', 'xjit.jit'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout
