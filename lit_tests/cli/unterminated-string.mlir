// RUN: not xjit-opt %s 2>&1 | filecheck %s
// RUN: not xjit-opt -p torch-to-loops %s 2>&1 | filecheck %s
// An unterminated string literal is reported at its opening quote. xDSL's string regex
// backtracks exponentially on it (60 characters would take years); xjit pre-scans linearly.

func.func @f() {
  %0 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
  func.return
}

// CHECK: unterminated-string.mlir:7:8: error: unterminated string literal
// CHECK-NOT: Traceback
// CHECK-NOT: internal error

// An escape xDSL does not accept backtracks the same way: it is reported at the backslash.
// RUN: %python -c "open(r'%t', 'w').write('\"' + 'a' * 60 + '\\\\q' + 'a' * 60 + '\"\\n')"
// RUN: not xjit-opt %t 2>&1 | filecheck %s --check-prefix=ESCAPE
// ESCAPE: :1:62: error: invalid escape sequence in string literal
