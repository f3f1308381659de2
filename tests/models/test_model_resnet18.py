"""torchvision's ResNet-18 as its source writes it (`conv3x3`/`conv1x1`, `BasicBlock` with a
`downsample` Sequential, `_make_layer`, the kaiming/constant init loop over `self.modules()`,
zero-init of the last BN, `AdaptiveAvgPool2d((1, 1))`, `torch.flatten(x, 1)`), at a small width:
eager, traced, scripted, imported with `xjit.from_torch`, and saved/loaded, against PyTorch."""

from __future__ import annotations

import numpy as np
import torch
from model_oracle import check_compiled, compare, twins


def resnet(torch):
    nn = torch.nn

    def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
        """3x3 convolution with padding"""
        return nn.Conv2d(
            in_planes,
            out_planes,
            kernel_size=3,
            stride=stride,
            padding=dilation,
            groups=groups,
            bias=False,
            dilation=dilation,
        )

    def conv1x1(in_planes, out_planes, stride=1):
        """1x1 convolution"""
        return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)

    class BasicBlock(nn.Module):
        expansion: int = 1

        def __init__(
            self,
            inplanes,
            planes,
            stride=1,
            downsample=None,
            groups=1,
            base_width=64,
            dilation=1,
            norm_layer=None,
        ):
            super().__init__()
            if norm_layer is None:
                norm_layer = nn.BatchNorm2d
            if groups != 1 or base_width != 64:
                raise ValueError("BasicBlock only supports groups=1 and base_width=64")
            if dilation > 1:
                raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
            # Both self.conv1 and self.downsample layers downsample the input when stride != 1
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.bn1 = norm_layer(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = conv3x3(planes, planes)
            self.bn2 = norm_layer(planes)
            self.downsample = downsample
            self.stride = stride

        def forward(self, x):
            identity = x

            out = self.conv1(x)
            out = self.bn1(out)
            out = self.relu(out)

            out = self.conv2(out)
            out = self.bn2(out)

            if self.downsample is not None:
                identity = self.downsample(x)

            out += identity
            out = self.relu(out)

            return out

    class ResNet(nn.Module):
        def __init__(
            self,
            block,
            layers,
            num_classes=1000,
            zero_init_residual=False,
            groups=1,
            width_per_group=64,
            replace_stride_with_dilation=None,
            norm_layer=None,
            width=64,  # torchvision's 64, here a parameter so the test runs small
        ):
            super().__init__()
            if norm_layer is None:
                norm_layer = nn.BatchNorm2d
            self._norm_layer = norm_layer

            self.inplanes = width
            self.dilation = 1
            if replace_stride_with_dilation is None:
                replace_stride_with_dilation = [False, False, False]
            if len(replace_stride_with_dilation) != 3:
                raise ValueError(
                    "replace_stride_with_dilation should be None "
                    f"or a 3-element tuple, got {replace_stride_with_dilation}"
                )
            self.groups = groups
            self.base_width = width_per_group
            self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = norm_layer(self.inplanes)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
            self.layer1 = self._make_layer(block, width, layers[0])
            self.layer2 = self._make_layer(
                block, width * 2, layers[1], stride=2, dilate=replace_stride_with_dilation[0]
            )
            self.layer3 = self._make_layer(
                block, width * 4, layers[2], stride=2, dilate=replace_stride_with_dilation[1]
            )
            self.layer4 = self._make_layer(
                block, width * 8, layers[3], stride=2, dilate=replace_stride_with_dilation[2]
            )
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)

            # Zero-initialize the last BN in each residual branch
            if zero_init_residual:
                for m in self.modules():
                    if isinstance(m, BasicBlock) and m.bn2.weight is not None:
                        nn.init.constant_(m.bn2.weight, 0)

        def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
            norm_layer = self._norm_layer
            downsample = None
            previous_dilation = self.dilation
            if dilate:
                self.dilation *= stride
                stride = 1
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    conv1x1(self.inplanes, planes * block.expansion, stride),
                    norm_layer(planes * block.expansion),
                )

            layers = []
            layers.append(
                block(
                    self.inplanes,
                    planes,
                    stride,
                    downsample,
                    self.groups,
                    self.base_width,
                    previous_dilation,
                    norm_layer,
                )
            )
            self.inplanes = planes * block.expansion
            for _ in range(1, blocks):
                layers.append(
                    block(
                        self.inplanes,
                        planes,
                        groups=self.groups,
                        base_width=self.base_width,
                        dilation=self.dilation,
                        norm_layer=norm_layer,
                    )
                )

            return nn.Sequential(*layers)

        def _forward_impl(self, x):
            # See note [TorchScript super()]
            x = self.conv1(x)
            x = self.bn1(x)
            x = self.relu(x)
            x = self.maxpool(x)

            x = self.layer1(x)
            x = self.layer2(x)
            x = self.layer3(x)
            x = self.layer4(x)

            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            x = self.fc(x)

            return x

        def forward(self, x):
            return self._forward_impl(x)

    def resnet18(**kwargs):
        return ResNet(BasicBlock, [2, 2, 2, 2], **kwargs)

    return resnet18


def _randomise_bn(t) -> None:
    """Kaiming init leaves BN at identity: give the running statistics and affine terms values
    that matter, so a dropped or misplaced BN shows in the output."""
    with torch.no_grad():
        for m in t.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.normal_(1, 0.2)
                m.bias.normal_(0, 0.2)


def test_resnet18_small_width(tmp_path) -> None:
    t, x = twins(resnet, num_classes=10, width=8)
    assert sum(1 for k in t.state_dict() if k.endswith("downsample.0.weight")) == 3
    _randomise_bn(t)
    x.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    sets = [(rng.standard_normal((2, 3, 40, 40)).astype(np.float32),) for _ in range(2)]
    # `out += identity` on tensors of unknown dtype compiles per call (torch's cast check needs
    # the dtypes), so the scripted ResNet has no generic graph to save: its save refuses loudly
    check_compiled(t, x, sets, tmp_path, script_save=False)


def test_resnet18_zero_init_residual_is_identity_branch() -> None:
    """zero_init_residual: each block's residual branch starts at 0, so the model is the stem, the
    downsample paths and the head; xjit's init loop must make the same choice as torch's."""
    t, x = twins(resnet, num_classes=4, width=4, zero_init_residual=True)
    assert all(float(abs(m.bn2.weight).sum()) == 0 for m in x.modules() if hasattr(m, "bn2"))
    a = np.random.default_rng(1).standard_normal((1, 3, 33, 33)).astype(np.float32)
    compare(t, x, a, trace=False)
