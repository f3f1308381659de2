# RUN: %python %s | filecheck %s

# Scripting nn.TransformerEncoderLayer compiles xjit/nn/transformer_scripted.py's forwards: the
# layer calls its self-attention with need_weights=False, a bool known while compiling, so the
# call goes to a variant (`self_attn.forward#1`) compiled with need_weights as a constant: its
# result is the attention output alone (the weights are None, not a result). The variant still
# takes the argument and checks at run time that it is the value it was compiled for. The rank
# of the input is a run-time value (`query.dim() == 3`), so the graph stays generic; the result's
# rank and embedding size are known all the same (the output projection's view sizes).
import xjit as torch

torch.manual_seed(0)
s = torch.jit.script(torch.nn.TransformerEncoderLayer(8, 2, 16).eval())
print(s.graph)

# CHECK:         func.func @forward(%src: !torch.vtensor, %src_mask: !torch.none, %src_key_padding_mask: !torch.none, %is_causal: !torch.bool) -> !torch.vtensor {
# (the constants' names say their values: need_weights=False, average_attn_weights=True)
# CHECK:           %a = func.call @"self_attn.forward#1"(%src, %src, %src, %src_key_padding_mask, %false{{(_[0-9]+)?}}, %src_mask, %true{{(_[0-9]+)?}}, %is_causal) : {{.*}} -> !torch.vtensor
# CHECK:           torch.aten.relu
# CHECK:           func.return

# CHECK:         func.func private @"self_attn.forward#1"(%query: !torch.vtensor, %key: !torch.vtensor, %value: !torch.vtensor, %key_padding_mask: !torch.none, %need_weights: !torch.bool, %attn_mask: !torch.none, %average_attn_weights: !torch.bool, %is_causal: !torch.bool) -> !torch.vtensor<[?,?,8],f32> {
# CHECK-NEXT:      %[[F2:.*]] = torch.constant.bool false
# CHECK-NEXT:      %[[OK:.*]] = torch.aten.eq.bool %need_weights, %[[F2]] : !torch.bool, !torch.bool -> !torch.bool
# CHECK-NEXT:      torch.prim.If %[[OK]] {
# CHECK-NEXT:        torch.prim.If.yield
# CHECK-NEXT:      } else {
# CHECK-NEXT:        %[[MSG:.*]] = torch.constant.str "mha_forward() was compiled for need_weights=False, got {}"
# CHECK-NEXT:        %[[NONE:.*]] = torch.constant.none
# CHECK-NEXT:        torch.prim.RaiseException %[[MSG]], %[[NONE]], %need_weights
# CHECK:           %rank = torch.aten.dim %query : !torch.vtensor -> !torch.int
# CHECK:           torch.prim.RaiseException
# CHECK:           %batched = torch.aten.eq.int %rank, %{{.*}} : !torch.int, !torch.int -> !torch.bool
# CHECK:           torch.aten.bmm
# CHECK:           torch.aten.softmax.int
# CHECK:           func.return %{{.*}} : !torch.vtensor
