#!/usr/bin/env python3
"""Writes the seed and hostile files tests/fuzz_loaders.rs starts from (committed; rerun only
to change them). Uses scripts/convert/onnx_proto.py, so the bytes are reproducible."""

import json
import pathlib
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3] / "scripts" / "convert"))
import onnx_proto as pb  # noqa: E402

PRODUCER = ("citrate-corpus", "1")


def mlp(w_dims=(4, 3)):
    """y = relu(x·w + b), x f32 [batch, 4]."""
    nodes = [pb.node("MatMul", ["x", "w"], ["h"], "matmul"), pb.node("Add", ["h", "b"], ["a"], "add"),
             pb.node("Relu", ["a"], ["y"], "relu")]
    inits = [pb.tensor("w", list(w_dims), [0.1 * i for i in range(12)]),
             pb.tensor("b", [3], [0.5, -0.5, 0.0])]
    return pb.model(nodes, inits, [pb.value_info("x", pb.FLOAT, ["batch", 4])],
                    [pb.value_info("y", pb.FLOAT, ["batch", 3])], "mlp", 13, PRODUCER)


def safetensors(header, data):
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + data


def main():
    onnx, st = HERE / "onnx", HERE / "safetensors"
    onnx.mkdir(exist_ok=True)
    st.mkdir(exist_ok=True)
    (onnx / "mlp.onnx").write_bytes(mlp())
    # 2^40 × 2^40 weights declared, 48 bytes stored.
    (onnx / "huge-initializer.onnx").write_bytes(mlp(w_dims=(1 << 40, 1 << 40)))
    # Declared dims disagree with the data.
    (onnx / "short-initializer.onnx").write_bytes(mlp(w_dims=(400, 3)))
    (onnx / "truncated.onnx").write_bytes(mlp()[:70])
    # ConstantOfShape asked for 2^20 × 2^20 floats from a constant shape.
    nodes = [pb.node("ConstantOfShape", ["shape"], ["big"], "cos"),
             pb.node("Add", ["x", "big"], ["y"], "add")]
    inits = [pb.tensor("shape", [2], [1 << 20, 1 << 20], data_type=pb.INT64)]
    (onnx / "constant-of-shape-bomb.onnx").write_bytes(pb.model(
        nodes, inits, [pb.value_info("x", pb.FLOAT, [1, 1])],
        [pb.value_info("y", pb.FLOAT, [1 << 20, 1 << 20])], "bomb", 13, PRODUCER))

    w = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
    (st / "tiny.safetensors").write_bytes(safetensors({"w": w}, bytes(16)))
    (st / "offsets-past-end.safetensors").write_bytes(
        safetensors({"w": w | {"data_offsets": [0, 1 << 40]}}, bytes(16)))
    (st / "huge-shape.safetensors").write_bytes(
        safetensors({"w": w | {"shape": [1 << 31, 1 << 31]}}, bytes(16)))
    (st / "header-too-long.safetensors").write_bytes(struct.pack("<Q", 1 << 62) + b"{}")
    (st / "bad-dtype.safetensors").write_bytes(safetensors({"w": w | {"dtype": "Q4"}}, bytes(16)))


if __name__ == "__main__":
    main()
