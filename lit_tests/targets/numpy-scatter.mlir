// RUN: xjit-opt %s -p torch-to-loops -t numpy | filecheck %s

// The numpy backend writes a scatter nest as one fancy-indexed assignment into the copy of x,
// and an accumulating one as np.add.at (every duplicate index adds): no Python loop.

// CHECK-LABEL: def f_put_rows(arg0, arg1, arg2):
// CHECK:         [[OUT:buf[0-9]+]][...] = arg0
// CHECK-NEXT:    [[OUT]][np.intp({{buf[0-9]+}}[:, None])[..., 0]] = {{buf[0-9]+}}
// CHECK-NEXT:    return ([[OUT]],)
// CHECK-LABEL: def f_accumulate(arg0, arg1, arg2, arg3):
// CHECK:         [[ACC:buf[0-9]+]][...] = arg0
// CHECK:         np.add.at([[ACC]], ([[I:t[0-9]+]], [[J:t[0-9]+]],), arg3)
// CHECK-NEXT:    return ([[ACC]],)
func.func @put_rows(%x: !torch.vtensor<[4,3],f32>, %i: !torch.vtensor<[2],si64>, %v: !torch.vtensor<[3],f32>) -> !torch.vtensor<[4,3],f32> {
  %false = torch.constant.bool false
  %0 = torch.prim.ListConstruct %i : (!torch.vtensor<[2],si64>) -> !torch.list<vtensor>
  %1 = torch.aten.index_put.hacked_twin %x, %0, %v, %false : !torch.vtensor<[4,3],f32>, !torch.list<vtensor>, !torch.vtensor<[3],f32>, !torch.bool -> !torch.vtensor<[4,3],f32>
  func.return %1 : !torch.vtensor<[4,3],f32>
}

func.func @accumulate(%x: !torch.vtensor<[4,3],f32>, %i: !torch.vtensor<[5],si64>, %j: !torch.vtensor<[5],si64>, %v: !torch.vtensor<[5],f32>) -> !torch.vtensor<[4,3],f32> {
  %true = torch.constant.bool true
  %0 = torch.prim.ListConstruct %i, %j : (!torch.vtensor<[5],si64>, !torch.vtensor<[5],si64>) -> !torch.list<vtensor>
  %1 = torch.aten.index_put.hacked_twin %x, %0, %v, %true : !torch.vtensor<[4,3],f32>, !torch.list<vtensor>, !torch.vtensor<[5],f32>, !torch.bool -> !torch.vtensor<[4,3],f32>
  func.return %1 : !torch.vtensor<[4,3],f32>
}
