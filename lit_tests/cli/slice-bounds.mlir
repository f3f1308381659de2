// RUN: xjit-opt %s --verify-diagnostics --split-input-file
// RUN: not xjit-opt %s --split-input-file 2>&1 | filecheck %s --check-prefix=OK
// A tensor slice whose static offsets, sizes and strides reach outside a static dim is invalid
// IR, at the op (as in mlir-opt). xDSL's verifier did not check, and convert-linalg-to-loop
// then built loop.loads that index out of bounds (found by tests/cli_fuzz.py).

func.func @extract_past_the_end(%xs: tensor<?x3x4xf32>, %i: index) -> tensor<3x4xf32> {
  // expected-error@+1 {{'tensor.extract_slice' op slice of dimension 2 (offset 2147483648, size 4, stride 1) is out of bounds of tensor<?x3x4xf32> (size 4)}}
  %x = tensor.extract_slice %xs[%i, 0, 2147483648] [1, 3, 4] [1, 1, 1] : tensor<?x3x4xf32> to tensor<3x4xf32>
  func.return %x : tensor<3x4xf32>
}

// -----

func.func @extract_stride(%x: tensor<8xf32>) -> tensor<3xf32> {
  // expected-error@+1 {{slice of dimension 0 (offset 2, size 3, stride 3) is out of bounds of tensor<8xf32> (size 8)}}
  %y = tensor.extract_slice %x[2] [3] [3] : tensor<8xf32> to tensor<3xf32>
  func.return %y : tensor<3xf32>
}

// -----

func.func @insert_negative_offset(%s: tensor<2xf32>, %d: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error@+1 {{'tensor.insert_slice' op slice of dimension 0 (offset -1, size 2, stride 1) is out of bounds of tensor<4xf32> (size 4)}}
  %r = tensor.insert_slice %s into %d[-1] [2] [1] : tensor<2xf32> into tensor<4xf32>
  func.return %r : tensor<4xf32>
}

// -----

// In bounds (the last element exactly, a dynamic dim, an empty slice): valid.
// OK-LABEL: func.func @in_bounds
func.func @in_bounds(%x: tensor<8xf32>, %y: tensor<?xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<0xf32>) {
  %a = tensor.extract_slice %x[1] [3] [3] : tensor<8xf32> to tensor<3xf32>
  %b = tensor.extract_slice %y[100] [3] [1] : tensor<?xf32> to tensor<3xf32>
  %c = tensor.extract_slice %x[8] [0] [1] : tensor<8xf32> to tensor<0xf32>
  func.return %a, %b, %c : tensor<3xf32>, tensor<3xf32>, tensor<0xf32>
}
