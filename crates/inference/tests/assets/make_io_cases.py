#!/usr/bin/env python3
"""Writes the small ONNX models the engine's I/O naming and output-choice tests load
(committed; rerun only to change them), with scripts/convert/onnx_proto.py so the bytes are
reproducible:

- echo-encoder.onnx: a BERT-style encoder as exporters write them. `input_ids` feeds an
  `Identity` (tract folds it away) and `attention_mask` a no-op `Cast`; the first output is an
  int64 echo of the mask, the second the f32 hidden state [batch, seq, 4] behind an `Identity`.
  hidden[b, s, :] = input_ids[b, s] · (1, 2, 3, 4).
- pooled-encoder.onnx: the same encoder that returns only a pooled `sentence_embedding`
  [batch, 4] (the mean over the sequence, mask ignored).
- unique.onnx: `Unique` (no tract implementation) at node `dedupe` between input and output.
- squeeze-if.onnx: PyTorch's export of `x.squeeze(0)`: `If` dim 0 of `x` [1, n] is 1 then
  `Squeeze` else `Identity` — branches whose outputs differ in rank, which tract's own `If`
  refuses; then `y = 2 · x`.
"""

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3] / "scripts" / "convert"))
import onnx_proto as pb  # noqa: E402

PRODUCER = ("citrate-io-cases", "1")
INPUTS = [pb.value_info("input_ids", pb.INT64, ["batch", "sequence"]),
          pb.value_info("attention_mask", pb.INT64, ["batch", "sequence"])]


def hidden_state(output):
    """Nodes from the inputs to `output` f32 [batch, sequence, 4], and the mask echo."""
    inits = [pb.tensor("axis2", [1], [2], pb.INT64), pb.tensor("weights", [1, 1, 4], [1.0, 2.0, 3.0, 4.0])]
    nodes = [
        pb.node("Identity", ["input_ids"], ["ids"], "ids_identity"),
        pb.node("Cast", ["ids"], ["ids_float"], "ids_cast", to=pb.FLOAT),
        pb.node("Unsqueeze", ["ids_float", "axis2"], ["ids_3d"], "ids_unsqueeze"),
        pb.node("Mul", ["ids_3d", "weights"], ["hidden"], "scale"),
        pb.node("Identity", ["hidden"], [output], "hidden_identity"),
        pb.node("Cast", ["attention_mask"], ["mask_echo"], "mask_cast", to=pb.INT64),
    ]
    return nodes, inits


def main():
    nodes, inits = hidden_state("last_hidden_state")
    outputs = [pb.value_info("mask_echo", pb.INT64, ["batch", "sequence"]),
               pb.value_info("last_hidden_state", pb.FLOAT, ["batch", "sequence", 4])]
    (HERE / "echo-encoder.onnx").write_bytes(
        pb.model(nodes, inits, INPUTS, outputs, "echo_encoder", 13, PRODUCER))

    nodes, inits = hidden_state("hidden_out")
    inits.append(pb.tensor("axis1", [1], [1], pb.INT64))
    nodes.append(pb.node("ReduceMean", ["hidden_out", "axis1"], ["sentence_embedding"], "pool", keepdims=0))
    outputs = [pb.value_info("sentence_embedding", pb.FLOAT, ["batch", 4])]
    (HERE / "pooled-encoder.onnx").write_bytes(
        pb.model(nodes, inits, INPUTS, outputs, "pooled_encoder", 18, PRODUCER))

    (HERE / "unique.onnx").write_bytes(pb.model(
        [pb.node("Unique", ["x"], ["y"], "dedupe", sorted=1)], [],
        [pb.value_info("x", pb.FLOAT, [4])], [pb.value_info("y", pb.FLOAT, ["unique"])],
        "unique", 13, PRODUCER))

    then_branch = pb.graph([pb.node("Squeeze", ["x", "axis0"], ["squeezed"], "squeeze")], "then",
                           [pb.tensor("axis0", [1], [0], pb.INT64)], [],
                           [pb.value_info("squeezed", pb.FLOAT, ["n"])])
    else_branch = pb.graph([pb.node("Identity", ["x"], ["kept"], "keep")], "else", [], [],
                           [pb.value_info("kept", pb.FLOAT, [1, "n"])])
    inits = [pb.tensor("zero", [], [0], pb.INT64), pb.tensor("one", [], [1], pb.INT64),
             pb.tensor("two", [], [2.0])]
    nodes = [
        pb.node("Shape", ["x"], ["shape"], "shape"),
        pb.node("Gather", ["shape", "zero"], ["dim0"], "dim0", axis=0),
        pb.node("Equal", ["dim0", "one"], ["is_one"], "is_one"),
        pb.node("If", ["is_one"], ["maybe_squeezed"], "squeeze_if",
                then_branch=then_branch, else_branch=else_branch),
        pb.node("Mul", ["maybe_squeezed", "two"], ["y"], "double"),
    ]
    (HERE / "squeeze-if.onnx").write_bytes(pb.model(
        nodes, inits, [pb.value_info("x", pb.FLOAT, [1, "n"])], [pb.value_info("y", pb.FLOAT, ["n"])],
        "squeeze_if", 13, PRODUCER))


if __name__ == "__main__":
    main()
