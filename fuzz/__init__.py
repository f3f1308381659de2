"""Seeded fuzzers of xjit (docs/fuzzing.md): `python -m fuzz.cli` feeds malformed and
semantically wrong IR to xjit-opt and xjit-run; `python -m fuzz.programs` runs random Python
programs with branches and loops through eager xjit, `xjit.jit.trace` and `xjit.jit.script`
against PyTorch. Both exit 1 on any finding and write each failing input to a directory."""
