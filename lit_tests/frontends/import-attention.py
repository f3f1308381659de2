# RUN: %python %s | filecheck %s

# xjit.from_torch maps core ATen ops without a registry entry of their own onto registry ops:
# native_layer_norm -> layer_norm (its mean/rstd outputs unused), split_with_sizes ->
# slice.Tensor per chunk, _softmax -> softmax.int, scalar_tensor -> full; a Python scalar
# operand of mul.Tensor becomes mul.Scalar. A None output keeps its place in the structure.
import torch
import torch.nn.functional as F
from torch import nn

import xjit


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(4)
        self.qkv = nn.Linear(4, 12, bias=False)

    def forward(self, x):
        q, k, v = self.qkv(self.ln(x)).split(4, dim=-1)
        att = (q @ k.transpose(-2, -1)) * 0.5
        att = att.masked_fill(torch.ones(3, 3).tril() == 0, float("-inf"))
        return F.softmax(att, dim=-1) @ v, None


torch.manual_seed(0)
model = Attention().eval()
m = xjit.from_torch(model, (torch.randn(3, 4),))
print(m.graph)
x = torch.randn(3, 4)
y, none = m(x.numpy())
want, _ = model(x)
print("result:", none, float(abs(y.numpy() - want.detach().numpy()).max()) < 1e-5)

# CHECK:      func.func @forward(%x: !torch.vtensor<[3,4],f32>) -> !torch.vtensor<[3,4],f32> {
# CHECK:        %[[LN:.*]] = torch.aten.layer_norm %x, %{{.*}}, %ln_weight, %ln_bias, %{{.*}}, %true : {{.*}} -> !torch.vtensor<[3,4],f32>
# CHECK:        %[[QKV:.*]] = torch.aten.mm %[[LN]], %{{.*}} : !torch.vtensor<[3,4],f32>, !torch.vtensor<[4,12],f32> -> !torch.vtensor<[3,12],f32>
# CHECK:        %[[Q:.*]] = torch.aten.slice.Tensor %[[QKV]], %intm1, %int0_1, %int4_1, %int1_1 : {{.*}} -> !torch.vtensor<[3,4],f32>
# CHECK:        %[[K:.*]] = torch.aten.slice.Tensor %[[QKV]], %intm1_1, %int4_2, %int8, %int1_2 : {{.*}} -> !torch.vtensor<[3,4],f32>
# CHECK:        %[[V:.*]] = torch.aten.slice.Tensor %[[QKV]], %intm1_2, %int8_1, %int12, %int1_3 : {{.*}} -> !torch.vtensor<[3,4],f32>
# CHECK:        %[[KT:.*]] = torch.aten.permute %[[K]], %{{.*}} -> !torch.vtensor<[4,3],f32>
# CHECK-NEXT:   %[[S:.*]] = torch.aten.mm %[[Q]], %[[KT]] : {{.*}} -> !torch.vtensor<[3,3],f32>
# CHECK:        %[[SC:.*]] = torch.aten.mul.Scalar %[[S]], %{{.*}} : !torch.vtensor<[3,3],f32>, !torch.float -> !torch.vtensor<[3,3],f32>
# CHECK:        %floatminf = torch.constant.float 0xfff0000000000000
# CHECK:        %[[NEGINF:.*]] = torch.aten.full %{{.*}}, %floatminf, %{{.*}} : !torch.list<int>, !torch.float, !torch.int -> !torch.vtensor<[],f32>
# CHECK-NEXT:   %[[MASKED:.*]] = torch.aten.where.self %{{.*}}, %[[NEGINF]], %[[SC]] : !torch.vtensor<[3,3],i1>, !torch.vtensor<[],f32>, !torch.vtensor<[3,3],f32> -> !torch.vtensor<[3,3],f32>
# CHECK:        %[[P:.*]] = torch.aten.softmax.int %[[MASKED]], %intm1_4, %none_2 : !torch.vtensor<[3,3],f32>, !torch.int, !torch.none -> !torch.vtensor<[3,3],f32>
# CHECK-NEXT:   %[[Y:.*]] = torch.aten.mm %[[P]], %[[V]] : {{.*}} -> !torch.vtensor<[3,4],f32>
# CHECK-NEXT:   func.return %[[Y]] : !torch.vtensor<[3,4],f32>
# CHECK:      result: None True
