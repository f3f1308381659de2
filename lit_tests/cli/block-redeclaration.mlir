// RUN: not xjit-opt %s 2>&1 | filecheck %s
// A block label defined twice after a branch named it first is the parser's located
// "re-declaration" error with a note at the first definition (xDSL 0.74 alone crashes with a
// KeyError here), never an internal error.

func.func @f(%c: i1, %a: i32) -> i32 {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  cf.br ^bb2
^bb1:
  cf.br ^bb2
^bb2:
  func.return %a : i32
}

// CHECK: block-redeclaration.mlir:10:1: error: re-declaration of block 'bb1'
// CHECK-NEXT: {{^}}^bb1:
// CHECK-NEXT: {{^}}^^^^
// CHECK-NEXT: block-redeclaration.mlir:8:1: note: originally declared here
// CHECK-NOT: internal error
