"""Pictures of compiled modules: Graphviz dot text, rendered to SVG when `dot` is installed.

Graphviz is an optional system tool, never a Python dependency: without it, Jupyter shows the
dot text with a one-line hint, and `graph_dot()`/`fusion_dot()` still return the text.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

HINT = "# install Graphviz (`dot`) to see this graph as a picture: dot -Tsvg graph.dot -o graph.svg"


def render_svg(dot_text: str, timeout: float = 30.0) -> str | None:
    """`dot_text` rendered by Graphviz as SVG, or None when `dot` is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    done = subprocess.run(
        [dot, "-Tsvg"], input=dot_text, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.strip()}")
    return done.stdout


def mimebundle(dot_text: str, plain: str) -> dict[str, Any]:
    """What Jupyter displays for a compiled module: the SVG, else the dot text and a hint."""
    svg = render_svg(dot_text)
    if svg is not None:
        return {"image/svg+xml": svg, "text/plain": plain}
    return {"text/plain": f"{plain}\n{dot_text}{HINT}"}
