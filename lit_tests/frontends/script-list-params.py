# RUN: %python %s | filecheck %s

# Issue 10: a List[Tensor] parameter is compiled per call on the list's length, each element an
# entry block argument (`xs.0`, `xs.1`, ...); a call with another length gets its own graph.
# A Dict[str, Tensor] parameter likewise per key set. torch.tensor([...]) of run-time scalars is
# one 0-d aten.full per element, stacked.
from typing import Dict, List

import xjit as torch


def cat_list(xs: List[torch.Tensor]) -> torch.Tensor:
    return torch.cat(xs)


def by_key(d: Dict[str, torch.Tensor]) -> torch.Tensor:
    return d["b"] - d["a"]


def pair(a: float, n: int) -> torch.Tensor:
    return torch.tensor([a, 2.0 * n])


f = torch.jit.script(cat_list)
x = torch.ones(2)
print("// -- two")
print(f.specialized_ir([x, x]))
print("// -- three")
print(f.specialized_ir([x, x, x]))
print("// -- dict")
print(torch.jit.script(by_key).specialized_ir({"a": x, "b": x}))
print("// -- tensor literal")
print(torch.jit.script(pair).graph)

# CHECK-LABEL: // -- two
# CHECK:         func.func @cat_list(%[[A:.*]]: !torch.vtensor<[2],f32>, %[[B:.*]]: !torch.vtensor<[2],f32>) -> !torch.vtensor<[4],f32> {
# CHECK-NEXT:      %[[L:.*]] = torch.prim.ListConstruct %[[A]], %[[B]] : (!torch.vtensor<[2],f32>, !torch.vtensor<[2],f32>) -> !torch.list<vtensor>
# CHECK-NEXT:      %[[Z:.*]] = torch.constant.int 0
# CHECK-NEXT:      %[[C:.*]] = torch.aten.cat %[[L]], %[[Z]] : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[4],f32>
# CHECK-NEXT:      func.return %[[C]] : !torch.vtensor<[4],f32>

# CHECK-LABEL: // -- three
# CHECK:         func.func @cat_list(%{{.*}}: !torch.vtensor<[2],f32>, %{{.*}}: !torch.vtensor<[2],f32>, %{{.*}}: !torch.vtensor<[2],f32>) -> !torch.vtensor<[6],f32> {
# CHECK:           torch.aten.cat {{.*}} -> !torch.vtensor<[6],f32>

# CHECK-LABEL: // -- dict
# CHECK:         func.func @by_key(%[[DA:.*]]: !torch.vtensor<[2],f32>, %[[DB:.*]]: !torch.vtensor<[2],f32>) -> !torch.vtensor<[2],f32> {
# CHECK:           torch.aten.sub.Tensor %[[DB]], %[[DA]], %{{.*}} :

# CHECK-LABEL: // -- tensor literal
# CHECK:         func.func @pair(%a: !torch.float, %n: !torch.int) -> !torch.vtensor<[2],f32> {
# CHECK:           %[[TWO_N:.*]] = torch.aten.mul.float
# CHECK:           %[[E0:.*]] = torch.aten.full %{{.*}}, %a, %{{.*}} : !torch.list<int>, !torch.float, !torch.int -> !torch.vtensor<[],f32>
# CHECK:           %[[E1:.*]] = torch.aten.full %{{.*}}, %[[TWO_N]], %{{.*}} : !torch.list<int>, !torch.float, !torch.int -> !torch.vtensor<[],f32>
# CHECK:           %[[ITEMS:.*]] = torch.prim.ListConstruct %[[E0]], %[[E1]] :
# CHECK-NEXT:      %[[T:.*]] = torch.aten.stack %[[ITEMS]], %{{.*}} : !torch.list<vtensor>, !torch.int -> !torch.vtensor<[2],f32>
# CHECK-NEXT:      func.return %[[T]] : !torch.vtensor<[2],f32>
