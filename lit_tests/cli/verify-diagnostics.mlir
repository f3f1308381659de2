// RUN: xjit-opt %s --verify-diagnostics --split-input-file
// mlir-opt's semantics: every expected-* annotation must match a diagnostic of its kind, at its
// line (relative to the whole file, across --split-input-file chunks), whose message contains
// its text; every diagnostic must be expected. Then the run succeeds and prints nothing else.

// A changed message fails, naming the expectation and the diagnostic nobody expected:
// RUN: sed -e 's/got 2}}/got 3}}/' %s > %t.changed.mlir
// RUN: not xjit-opt %t.changed.mlir --verify-diagnostics --split-input-file 2>&1 | filecheck %s --check-prefix=CHANGED
// CHANGED: changed.mlir:[[# @LINE + 11]]: error: expected error "expected 1 iterator kinds (one per bound), got 3" was not produced (at line [[# @LINE + 12]])
// CHANGED: changed.mlir:[[# @LINE + 11]]: error: unexpected error: 'loop.nest' op expected 1 iterator kinds (one per bound), got 2

// IR made valid fails: the expected error was not produced.
// RUN: sed -e 's/\["parallel", "reduction"\]/["parallel"]/' %s > %t.valid.mlir
// RUN: not xjit-opt %t.valid.mlir --verify-diagnostics --split-input-file 2>&1 | filecheck %s --check-prefix=VALID
// VALID: valid.mlir:[[# @LINE + 5]]: error: expected error "expected 1 iterator kinds (one per bound), got 2" was not produced
// VALID-NOT: unexpected

// @+N: the diagnostic is N lines below the annotation.
func.func @bad_kinds(%m: memref<4xf32>, %n: index) {
  // expected-error@+1 {{expected 1 iterator kinds (one per bound), got 2}}
  loop.nest (%i) to (%n) ["parallel", "reduction"] {
    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}

// -----

// @-N and @above: the diagnostic is above the annotation.
func.func @bad_kind_name(%m: memref<4xf32>, %n: index) {
  loop.nest (%i) to (%n) ["sequential"] {
  // expected-error@-1 {{unknown iterator kind 'sequential'}}
    %a = loop.load %m[%i] affine_map<(d0) -> (d0)> : memref<4xf32>
  }
  func.return
}

// -----

func.func @bad_kind_above(%m: memref<4xf32>, %n: index) {
  loop.nest (%i) to (%n) ["window"] {
  // expected-error@above {{unknown iterator kind 'window'}}
  }
  func.return
}

// -----

// A parse error is a diagnostic too, at its own line.
func.func @parse_error() {
  %0 = arith.constant : i32 // expected-error {{attribute expected}}
  func.return
}

// -----

// A chunk without diagnostics and without expectations is fine.
func.func @fine() {
  func.return
}
