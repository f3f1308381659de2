"""Draw the pictures README.md shows: the tutorial MyCell's torch graph and its loop nests.

python docs/gen/graph_pictures.py        (needs Graphviz's `dot`; writes docs/images/*.svg)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import xjit as torch
from xjit.jit.display import render_svg

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    spec = importlib.util.spec_from_file_location("mycell", ROOT / "examples" / "mycell.py")
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    torch.manual_seed(0)
    traced = torch.jit.trace(example.MyCell(), (torch.rand(3, 4), torch.rand(3, 4)))
    out = ROOT / "docs" / "images"
    out.mkdir(exist_ok=True)
    for name, text in [
        ("mycell-graph.svg", traced.graph_dot()),
        ("mycell-fusion.svg", traced.forward.fusion_dot()),
    ]:
        svg = render_svg(text)
        if svg is None:
            raise SystemExit("Graphviz's `dot` is not installed (apt-get install graphviz)")
        (out / name).write_text(svg, encoding="utf-8")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
