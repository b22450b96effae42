#!/usr/bin/env python3
"""Writes word-sentiment.onnx, the text-classification pipeline's test model (no real
sequence classifier ships in a package): logits [batch, 2] = how many of a few positive and
negative words (BERT uncased WordPiece ids, from MiniLM's vocab.txt) each text holds.

    make_word_sentiment.py VOCAB.txt
"""

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3] / "scripts" / "convert"))
import onnx_proto as pb  # noqa: E402

POSITIVE = ["good", "great", "love", "excellent"]
NEGATIVE = ["bad", "awful", "hate", "terrible"]


def main(vocab_path):
    vocab = {token: i for i, token in enumerate(pathlib.Path(vocab_path).read_text().splitlines())}
    nodes, inits = [], [pb.tensor("axis2", [1], [2], pb.INT64), pb.tensor("axis1", [1], [1], pb.INT64),
                        pb.tensor("axes12", [2], [1, 2], pb.INT64)]
    nodes.append(pb.node("Unsqueeze", ["input_ids", "axis2"], ["ids"], "ids"))
    for name, words in (("positive", POSITIVE), ("negative", NEGATIVE)):
        inits.append(pb.tensor(f"{name}_ids", [len(words)], [vocab[w] for w in words], pb.INT64))
        nodes += [
            pb.node("Equal", ["ids", f"{name}_ids"], [f"{name}_hits"], f"{name}_equal"),
            pb.node("Cast", [f"{name}_hits"], [f"{name}_float"], f"{name}_cast", to=pb.FLOAT),
            pb.node("ReduceSum", [f"{name}_float", "axes12"], [f"{name}_count"], f"{name}_sum", keepdims=0),
            pb.node("Unsqueeze", [f"{name}_count", "axis1"], [f"{name}_column"], f"{name}_column"),
        ]
    nodes.append(pb.node("Concat", ["positive_column", "negative_column"], ["logits"], "logits", axis=1))
    model = pb.model(nodes, inits, [pb.value_info("input_ids", pb.INT64, ["batch", "sequence"])],
                     [pb.value_info("logits", pb.FLOAT, ["batch", 2])], "word_sentiment", 13,
                     ("citrate-tests", "1"))
    (HERE / "word-sentiment.onnx").write_bytes(model)


if __name__ == "__main__":
    main(sys.argv[1])
