// RUN: xjit-opt %s --split-input-file --verify-diagnostics
// RUN: not xjit-opt %s --split-input-file 2>&1 | filecheck %s
// SSA dominance: a value must be defined before every use (xDSL's verifier does not check it;
// xjit's does, in xjit-opt, xjit-run and archive loading).

func.func @self_use(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  // expected-error@+1 {{operand #0 is the operation's own result}}
  %0 = torch.aten.tanh %0 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
// CHECK: dominance.mlir:8:3: error: 'torch.aten.tanh' op operand #0 is the operation's own result (use of a value before it is defined)
// CHECK-NEXT: {{^}}  %0 = torch.aten.tanh %0

// -----

func.func @use_before_def(%x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  // expected-error@+1 {{operand #0 is used before it is defined}}
  %0 = torch.aten.tanh %1 : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  %1 = torch.aten.tanh %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
// CHECK: dominance.mlir:18:3: error: 'torch.aten.tanh' op operand #0 is used before it is defined

// -----

// A use inside a region of a value the enclosing block defines after the region's op.
func.func @region_use_before_def(%c: !torch.bool, %x: !torch.vtensor<[3],f32>) -> !torch.vtensor<[3],f32> {
  %0 = torch.prim.If %c -> (!torch.vtensor<[3],f32>) {
    // expected-error@+1 {{operand #0 is used before it is defined}}
    torch.prim.If.yield %1 : !torch.vtensor<[3],f32>
  } else {
    torch.prim.If.yield %x : !torch.vtensor<[3],f32>
  }
  %1 = torch.aten.tanh %x : !torch.vtensor<[3],f32> -> !torch.vtensor<[3],f32>
  func.return %0 : !torch.vtensor<[3],f32>
}
// CHECK: dominance.mlir:30:5: error: 'torch.prim.If.yield' op operand #0 is used before it is defined

// -----

// Multi-block regions: a value of a block that does not dominate the use.
func.func @non_dominating_block(%c: i1, %a: i32) -> i32 {
  cf.cond_br %c, ^bb1, ^bb2
^bb1:
  %x = arith.addi %a, %a : i32
  cf.br ^bb2
^bb2:
  // expected-error@+1 {{operand #0 does not dominate this use}}
  func.return %x : i32
}
// CHECK: dominance.mlir:49:3: error: 'func.return' op operand #0 does not dominate this use

// -----

// Valid: defined in a dominating block, and used from a nested region after its definition.
func.func @valid(%c: i1, %a: i32) -> i32 {
  %x = arith.addi %a, %a : i32
  cf.br ^bb1
^bb1:
  %y = scf.if %c -> (i32) {
    scf.yield %x : i32
  } else {
    scf.yield %a : i32
  }
  func.return %y : i32
}
// CHECK: func.func @valid

// -----

// Valid: an unreachable block may use anything (MLIR's rule: dominance says nothing there).
func.func @unreachable(%a: i32) -> i32 {
  %x = arith.addi %a, %a : i32
  func.return %x : i32
^bb1:
  %y = arith.addi %x, %x : i32
  func.return %y : i32
}
// CHECK: func.func @unreachable
