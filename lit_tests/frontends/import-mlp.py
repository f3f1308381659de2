# RUN: %python %s | filecheck %s

# xjit.from_torch on a real torch.nn MLP: torch.export + core ATen decompositions give
# permute + addmm per nn.Linear; parameters become global slots; the dynamic batch dim is `?`.
import torch
from torch import nn

import xjit


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.fc2 = nn.Linear(5, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


torch.manual_seed(0)
batch = torch.export.Dim("batch", min=1, max=16)
m = xjit.from_torch(MLP().eval(), (torch.randn(4, 3),), dynamic_shapes=({0: batch},))
print(m.graph)
print(m)

# CHECK:      torch.global_slot "private" @fc1.weight : !torch.vtensor<[5,3],f32>
# CHECK-NEXT: torch.global_slot "private" @fc1.bias : !torch.vtensor<[5],f32>
# CHECK-NEXT: torch.global_slot "private" @fc2.weight : !torch.vtensor<[2,5],f32>
# CHECK-NEXT: torch.global_slot "private" @fc2.bias : !torch.vtensor<[2],f32>
# CHECK:      func.func @forward(%x: !torch.vtensor<[?,3],f32>) -> !torch.vtensor<[?,2],f32> {
# CHECK:        %fc1_weight = torch.global_slot.get @fc1.weight
# CHECK:        %[[T1:.*]] = torch.aten.permute %fc1_weight, %{{.*}} : !torch.vtensor<[5,3],f32>, !torch.list<int> -> !torch.vtensor<[3,5],f32>
# CHECK:        %[[H:.*]] = torch.aten.addmm %fc1_bias, %x, %[[T1]], %{{.*}}, %{{.*}} : {{.*}} -> !torch.vtensor<[?,5],f32>
# CHECK-NEXT:   %[[R:.*]] = torch.aten.relu %[[H]] : !torch.vtensor<[?,5],f32> -> !torch.vtensor<[?,5],f32>
# CHECK:        %[[T2:.*]] = torch.aten.permute %fc2_weight
# CHECK:        %[[Y:.*]] = torch.aten.addmm %fc2_bias, %[[R]], %[[T2]], {{.*}} -> !torch.vtensor<[?,2],f32>
# CHECK-NEXT:   func.return %[[Y]] : !torch.vtensor<[?,2],f32>
# CHECK:      MLP(
# CHECK-NEXT:   (fc1): Linear()
# CHECK-NEXT:   (fc2): Linear()
# CHECK-NEXT: )
