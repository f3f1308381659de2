"""The `xdsl.universe` entry point: makes xjit's dialects and passes visible to stock `xdsl-opt`."""

from xdsl.universe import Universe

from xjit.dialects import XJIT_DIALECTS
from xjit.passes import XJIT_PASSES

XJIT_UNIVERSE = Universe(all_dialects=XJIT_DIALECTS, all_passes=XJIT_PASSES)
