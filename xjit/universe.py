"""The `xdsl.universe` entry point: makes xjit's dialects, passes and the `numpy` target visible
to stock `xdsl-opt` (and so to `xjit-opt`, which is built on the same registry)."""

from xdsl.universe import Universe
from xdsl.utils.target import Target

from xjit.dialects import XJIT_DIALECTS
from xjit.passes import XJIT_PASSES


def _numpy_target() -> type[Target]:
    # lazy: the code generator loads when xdsl-opt asks for the numpy target, not at every start
    from xjit.backends.numpy.target import NumpyTarget

    return NumpyTarget


XJIT_UNIVERSE = Universe(
    all_dialects=XJIT_DIALECTS, all_passes=XJIT_PASSES, all_targets={"numpy": _numpy_target}
)
