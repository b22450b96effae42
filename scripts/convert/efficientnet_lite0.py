#!/usr/bin/env python3
"""Converts EfficientNet-Lite0 (legacy PyTorch state_dict, lukemelas naming) to ONNX, no torch.

    efficientnet_lite0.py IN.pth OUT.onnx

BatchNorm (eps 1e-3) is folded into each convolution in float64 and rounded to float32;
convolutions pad like TensorFlow's "SAME" (auto_pad SAME_UPPER: the odd pixel at the end),
ReLU6 is Clip(0, 6). Input `images` is float32 [batch, 3, H, W] normalised as
(pixel/255 - 0.5) / 0.5 (the Lite models' 127.5-centred scaling); output `logits` is
float32 [batch, 1000] over the ImageNet-1k classes. The output depends only on the input file
and this code: the protobuf is written by onnx_proto.py, so the bytes are reproducible.
"""

import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import onnx_proto as pb  # noqa: E402
import torch_legacy  # noqa: E402

# (repeats, stride of the first block) per stage; kernel sizes and widths come from the weights.
STAGES = [(1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1)]
BN_EPS = 1e-3


class Graph:
    def __init__(self, state):
        self.state, self.nodes, self.initializers = state, [], []

    def fold(self, conv, bn, name):
        """The conv's weight and bias with BatchNorm `bn` folded in, as initializers."""
        weight = self.state[f"{conv}.weight"]
        values = weight.values()
        gamma, beta, mean, var = (self.state[f"{bn}.{k}"].values()
                                  for k in ("weight", "bias", "running_mean", "running_var"))
        out_channels = weight.shape[0]
        per_channel = len(values) // out_channels
        folded, bias = [], []
        for c in range(out_channels):
            scale = gamma[c] / math.sqrt(var[c] + BN_EPS)
            folded.extend(v * scale for v in values[c * per_channel:(c + 1) * per_channel])
            bias.append(beta[c] - mean[c] * scale)
        self.initializers.append(pb.tensor(f"{name}.weight", list(weight.shape), folded))
        self.initializers.append(pb.tensor(f"{name}.bias", [out_channels], bias))
        return weight.shape

    def conv_bn(self, x, conv, bn, name, stride=1, groups=1, relu6=True):
        shape = self.fold(conv, bn, name)
        k = shape[2]
        out = f"{name}.conv"
        self.nodes.append(pb.node("Conv", [x, f"{name}.weight", f"{name}.bias"], [out], out,
                                  auto_pad="SAME_UPPER", group=groups, kernel_shape=[k, k],
                                  strides=[stride, stride]))
        if not relu6:
            return out
        self.nodes.append(pb.node("Clip", [out, "zero", "six"], [f"{name}.relu6"], f"{name}.relu6"))
        return f"{name}.relu6"


def convert(pth, onnx_path):
    state = torch_legacy.load(pth)
    g = Graph(state)
    g.initializers += [pb.tensor("zero", [], [0.0]), pb.tensor("six", [], [6.0])]
    x = g.conv_bn("images", "_conv_stem", "_bn0", "stem", stride=2)
    block = 0
    for repeats, first_stride in STAGES:
        for r in range(repeats):
            p = f"_blocks.{block}"
            stride = first_stride if r == 0 else 1
            inp = x
            if f"{p}._expand_conv.weight" in state:
                x = g.conv_bn(x, f"{p}._expand_conv", f"{p}._bn0", f"block{block}.expand")
            channels = state[f"{p}._depthwise_conv.weight"].shape[0]
            x = g.conv_bn(x, f"{p}._depthwise_conv", f"{p}._bn1", f"block{block}.depthwise",
                          stride=stride, groups=channels)
            x = g.conv_bn(x, f"{p}._project_conv", f"{p}._bn2", f"block{block}.project", relu6=False)
            in_channels = state[f"{p}._expand_conv.weight"].shape[1] if f"{p}._expand_conv.weight" in state \
                else channels
            if stride == 1 and in_channels == state[f"{p}._project_conv.weight"].shape[0]:
                g.nodes.append(pb.node("Add", [x, inp], [f"block{block}.add"], f"block{block}.add"))
                x = f"block{block}.add"
            block += 1
    if f"_blocks.{block}._depthwise_conv.weight" in state:
        raise ValueError("more blocks than EfficientNet-Lite0 has")
    x = g.conv_bn(x, "_conv_head", "_bn1", "head")
    g.nodes.append(pb.node("GlobalAveragePool", [x], ["pool"], "pool"))
    g.nodes.append(pb.node("Flatten", ["pool"], ["features"], "flatten", axis=1))
    fc_w, fc_b = state["_fc.weight"], state["_fc.bias"]
    g.initializers.append(pb.tensor("fc.weight", list(fc_w.shape), fc_w.values()))
    g.initializers.append(pb.tensor("fc.bias", list(fc_b.shape), fc_b.values()))
    g.nodes.append(pb.node("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], "fc", transB=1))
    data = pb.model(
        g.nodes, g.initializers,
        [pb.value_info("images", pb.FLOAT, ["batch", 3, "height", "width"])],
        [pb.value_info("logits", pb.FLOAT, ["batch", fc_w.shape[0]])],
        "efficientnet_lite0", opset=13, producer=("citrate-convert", "1"))
    pathlib.Path(onnx_path).write_bytes(data)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    convert(sys.argv[1], sys.argv[2])
