// RUN: not xjit-opt %s -p canonicalise 2>&1 | filecheck %s
// RUN: not xjit-opt %s -p 'canonicalize{no-such-option=1}' 2>&1 | filecheck %s --check-prefix=OPTION
// RUN: not xjit-opt %s -p 'canonicalize{' 2>&1 | filecheck %s --check-prefix=SYNTAX
// RUN: not xjit-opt %s.does-not-exist 2>&1 | filecheck %s --check-prefix=MISSING

func.func @f() {
  func.return
}

// CHECK: xjit-opt: error: unknown pass 'canonicalise' (did you mean 'canonicalize'
// CHECK-NOT: Traceback

// OPTION: xjit-opt: error: unknown option 'no-such-option' for pass 'canonicalize' (options: none)
// OPTION-NOT: Traceback

// SYNTAX: xjit-opt: error: invalid pass pipeline: Expected argument name here
// SYNTAX-NEXT: canonicalize{
// SYNTAX-NOT: Traceback

// MISSING: xjit-opt: error: cannot open input file '{{.*}}unknown-pass.mlir.does-not-exist': No such file or directory
// MISSING-NOT: Traceback
