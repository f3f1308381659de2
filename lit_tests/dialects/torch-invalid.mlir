// RUN: not xjit-opt %s --split-input-file 2>&1 | filecheck %s

// Every way torch IR can be invalid, one per chunk, each a located diagnostic. aten verifiers
// run the op's shape/dtype rule from the registry; operand kinds come from the op's schema.

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.mm' op torch.aten.mm: mm: shapes [3, 4] and [5, 6] cannot be multiplied (4 != 5)
func.func @mm_inner_dims(%a: !torch.vtensor<[3,4],f32>, %b: !torch.vtensor<[5,6],f32>) {
  %0 = torch.aten.mm %a, %b : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,6],f32> -> !torch.vtensor<[3,6],f32>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.mm' op torch.aten.mm: mm: expected both operands to have the same dtype, got xjit.float32 and xjit.float64
func.func @mm_dtypes(%a: !torch.vtensor<[3,4],f32>, %b: !torch.vtensor<[4,5],f64>) {
  %0 = torch.aten.mm %a, %b : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,5],f64> -> !torch.vtensor<[3,5],f32>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 3]]:3: error: 'torch.aten.add.Tensor' op torch.aten.add.Tensor: shapes [3, 4] and [5] cannot broadcast
func.func @add_no_broadcast(%a: !torch.vtensor<[3,4],f32>, %b: !torch.vtensor<[5],f32>) {
  %int1 = torch.constant.int 1
  %0 = torch.aten.add.Tensor %a, %b, %int1 : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.tanh' op torch.aten.tanh: result type !torch.vtensor<[4,3],f32> does not match the inferred [3,4],f32
func.func @result_shape(%a: !torch.vtensor<[3,4],f32>) {
  %0 = torch.aten.tanh %a : !torch.vtensor<[3,4],f32> -> !torch.vtensor<[4,3],f32>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.mul.Tensor' op torch.aten.mul.Tensor: result type !torch.vtensor<[?,4,1],f32> does not match the inferred [?,4],f32
func.func @result_rank(%a: !torch.vtensor<[?,4],f32>, %b: !torch.vtensor<[4],f32>) {
  %0 = torch.aten.mul.Tensor %a, %b : !torch.vtensor<[?,4],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[?,4,1],f32>
  func.return
}

// -----

// int / int is float in torch.
// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.div.Tensor' op torch.aten.div.Tensor: result type !torch.vtensor<[3,4],si64> does not match the inferred [3,4],f32
func.func @result_dtype(%a: !torch.vtensor<[3,4],si64>) {
  %0 = torch.aten.div.Tensor %a, %a : !torch.vtensor<[3,4],si64>, !torch.vtensor<[3,4],si64> -> !torch.vtensor<[3,4],si64>
  func.return
}

// -----

// A float scalar promotes an int tensor to the default float dtype.
// CHECK: torch-invalid.mlir:[[# @LINE + 4]]:3: error: 'torch.aten.add.Scalar' op torch.aten.add.Scalar: result type !torch.vtensor<[3],si64> does not match the inferred [3],f32
func.func @scalar_promotion(%a: !torch.vtensor<[3],si64>) {
  %float = torch.constant.float 0.5
  %int1 = torch.constant.int 1
  %0 = torch.aten.add.Scalar %a, %float, %int1 : !torch.vtensor<[3],si64>, !torch.float, !torch.int -> !torch.vtensor<[3],si64>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.t' op torch.aten.t: t: expected a tensor of at most 2 dims, got shape [2, 3, 4]
func.func @t_rank3(%a: !torch.vtensor<[2,3,4],f32>) {
  %0 = torch.aten.t %a : !torch.vtensor<[2,3,4],f32> -> !torch.vtensor<[4,3,2],f32>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 3]]:3: error: 'torch.aten.linear' op torch.aten.linear: linear: input of shape [3, 4] does not match weight of shape [5, 6]
func.func @linear_weight(%a: !torch.vtensor<[3,4],f32>, %w: !torch.vtensor<[5,6],f32>) {
  %none = torch.constant.none
  %0 = torch.aten.linear %a, %w, %none : !torch.vtensor<[3,4],f32>, !torch.vtensor<[5,6],f32>, !torch.none -> !torch.vtensor<[3,5],f32>
  func.return
}

// -----

// A scalar where a tensor is required: the custom form checks operand kinds while parsing.
// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.mm' op !torch.int should be of base attribute torch.vtensor
func.func @int_for_tensor(%a: !torch.vtensor<[3,4],f32>, %n: !torch.int) {
  %0 = torch.aten.mm %a, %n : !torch.vtensor<[3,4],f32>, !torch.int -> !torch.vtensor<[3,4],f32>
  func.return
}

// -----

// ... and the generic form in the verifier.
// CHECK: torch-invalid.mlir:[[# @LINE + 4]]:3: error: 'torch.aten.mm' op operand 'mat2' at position 1 does not verify:
// CHECK-NEXT: !torch.int should be of base attribute torch.vtensor
"func.func"() <{sym_name = "int_for_tensor_generic", function_type = (!torch.vtensor<[3,4],f32>, !torch.int) -> ()}> ({
^bb0(%a: !torch.vtensor<[3,4],f32>, %n: !torch.int):
  %0 = "torch.aten.mm"(%a, %n) : (!torch.vtensor<[3,4],f32>, !torch.int) -> !torch.vtensor<[3,4],f32>
  "func.return"() : () -> ()
}) : () -> ()

// -----

// A tensor where a Scalar is required.
// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.aten.mul.Scalar' op Unexpected attribute !torch.vtensor<[3,4],f32>
func.func @tensor_for_scalar(%a: !torch.vtensor<[3,4],f32>) {
  %0 = torch.aten.mul.Scalar %a, %a : !torch.vtensor<[3,4],f32>, !torch.vtensor<[3,4],f32> -> !torch.vtensor<[3,4],f32>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.prim.TupleConstruct' op tuple elements ['!torch.vtensor<[3],f32>', '!torch.int'] do not match !torch.tuple<vtensor<[3],f32>, float>
func.func @tuple_types(%a: !torch.vtensor<[3],f32>, %n: !torch.int) {
  %0 = torch.prim.TupleConstruct %a, %n : !torch.vtensor<[3],f32>, !torch.int -> !torch.tuple<vtensor<[3],f32>, float>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.prim.TupleConstruct' op tuple elements ['!torch.vtensor<[3],f32>'] do not match !torch.tuple<vtensor<[3],f32>, int>
func.func @tuple_arity(%a: !torch.vtensor<[3],f32>) {
  %0 = torch.prim.TupleConstruct %a : !torch.vtensor<[3],f32> -> !torch.tuple<vtensor<[3],f32>, int>
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.prim.ListConstruct' op list element of type !torch.float in a !torch.list<int>
func.func @list_element(%n: !torch.int, %f: !torch.float) {
  %0 = torch.prim.ListConstruct %n, %f : (!torch.int, !torch.float) -> !torch.list<int>
  func.return
}

// -----

// Dtypes: f32, f64, si64, si32, i1 (signless i32 is not int32: torch-mlir spells that si32).
// CHECK: torch-invalid.mlir:[[# @LINE + 1]]:45: error: unsupported tensor dtype i32 (expected one of f32, f64, si64, si32, i1, or unk)
func.func @bad_dtype(%a: !torch.vtensor<[3],i32>) {
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 1]]:53: error: unsupported tensor dtype f16 (expected one of f32, f64, si64, si32, i1, or unk)
func.func @nested_dtype(%a: !torch.list<vtensor<[3],f16>>) {
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 1]]:45: error: Expected either integer literal or '?' in shape dimension, got MINUS!
func.func @negative_dim(%a: !torch.vtensor<[-2],f32>) {
  func.return
}

// -----

// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.vtensor.literal' op literal of type tensor<2xf32> does not match result type !torch.vtensor<[3],f32>
func.func @literal_shape() {
  %0 = torch.vtensor.literal(dense<[1.0, 2.0]> : tensor<2xf32>) : !torch.vtensor<[3],f32>
  func.return
}

// -----

// The lowering keeps a literal's bytes: an element type that is not the dtype would reinterpret them.
// CHECK: torch-invalid.mlir:[[# @LINE + 2]]:3: error: 'torch.vtensor.literal' op literal of type tensor<2xi64> does not match result type !torch.vtensor<[2],f64>
func.func @literal_dtype() {
  %0 = torch.vtensor.literal(dense<[1, 2]> : tensor<2xi64>) : !torch.vtensor<[2],f64>
  func.return
}
