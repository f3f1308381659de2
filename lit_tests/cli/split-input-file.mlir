// RUN: not xjit-opt %s --split-input-file 2>/dev/null | filecheck %s
// RUN: not xjit-opt %s --split-input-file 2>&1 | filecheck %s --check-prefix=ERR

// Each chunk is a separate module; the output keeps the separators. A failing chunk does not
// stop the others (as in mlir-opt), its line numbers are those of the whole file, and the exit
// status is 1.

// CHECK:      func.func @first
// CHECK-NEXT:   func.return
// CHECK:      // -----
// CHECK-NEXT: builtin.module {
// CHECK-NEXT:   func.func @second
// CHECK:      // -----
// CHECK-NEXT: // -----
// CHECK-NEXT: builtin.module {
// CHECK-NEXT:   func.func @fourth
// CHECK-NOT:  func.func

func.func @first() {
  func.return
}

// -----

func.func @second(%a: i32) -> i32 {
  func.return %a : i32
}

// -----

// ERR: split-input-file.mlir:[[# @LINE + 2]]:3: error: 'func.return' op Expected arguments to have the same types as the function output types: expected [i64], got [i32]
func.func @third(%a: i32) -> i64 {
  func.return %a : i32
}

// -----

func.func @fourth() {
  func.return
}
