#!/usr/bin/env python3
"""Writes the small image models the preprocessing tests load (committed; rerun only to change
them), with scripts/convert/onnx_proto.py so the bytes are reproducible. Each returns the mean
of every input channel as its `logits`, so a test reads back exactly what preprocessing fed it:

- channel-means-nchw.onnx: `pixel_values` f32 [batch, 3, height, width] (PyTorch's layout,
  symbolic size: the size must come from preprocessor_config.json).
- channel-means-nhwc-bgr.onnx: `input_1` f32 [1, 8, 8, 3] (Keras' layout, fixed size) whose
  metadata_props `preprocessor_config` describes Caffe-style VGG input: BGR, no rescaling,
  mean subtraction in pixel units.
- channel-means-u8.onnx: `image` u8 [1, 4, 4, 3], pixels as they are (TF-Lite's quantised
  classifiers), cast to f32 inside.
- channel-means-square.onnx: `x` f32 [1, 3, 3, 3], whose layout its shape cannot tell.
"""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3] / "scripts" / "convert"))
import onnx_proto as pb  # noqa: E402

PRODUCER = ("citrate-image-cases", "1")
CAFFE = {"channel_order": "bgr", "do_rescale": False,
         "image_mean": [103.939, 116.779, 123.68], "image_std": 1}


def channel_means(path, input_info, spatial_axes, cast=False, metadata=None):
    source = input_info[0]
    nodes = []
    if cast:
        nodes.append(pb.node("Cast", [source], ["as_float"], "to_float", to=pb.FLOAT))
        source = "as_float"
    nodes.append(pb.node("ReduceMean", [source], ["logits"], "channel_means", axes=spatial_axes, keepdims=0))
    data = pb.model(nodes, [], [pb.value_info(*input_info)],
                    [pb.value_info("logits", pb.FLOAT, [input_info[2][0], 3])],
                    "channel_means", 13, PRODUCER, metadata)
    (HERE / path).write_bytes(data)


def main():
    channel_means("channel-means-nchw.onnx", ("pixel_values", pb.FLOAT, ["batch", 3, "height", "width"]), [2, 3])
    channel_means("channel-means-nhwc-bgr.onnx", ("input_1", pb.FLOAT, [1, 8, 8, 3]), [1, 2],
                  metadata={"preprocessor_config": json.dumps(CAFFE)})
    channel_means("channel-means-u8.onnx", ("image", pb.UINT8, [1, 4, 4, 3]), [1, 2], cast=True)
    channel_means("channel-means-square.onnx", ("x", pb.FLOAT, [1, 3, 3, 3]), [2, 3])


if __name__ == "__main__":
    main()
