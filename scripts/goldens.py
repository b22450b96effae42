#!/usr/bin/env python3
"""Writes the inference engine's golden outputs with onnxruntime, the reference runtime.

Run once by a maintainer when a model or a fixed input changes; the outputs are committed in
crates/inference/tests/goldens/ as tensor-codec (CTEN v1) files and the Rust tests compare
tract's outputs with them. Needs `pip install onnxruntime numpy tokenizers` (any venv) and
the models from scripts/fetch-models.py.

    python scripts/goldens.py

Image-like inputs are not stored: both sides generate them with `lcg_values` below (integer
arithmetic, then k/255 as float32, so they are bit-identical in Python and Rust).
"""

import os
import pathlib
import struct
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates" / "inference" / "tests" / "goldens"
MODELS = pathlib.Path(os.environ.get("CITRATE_MODELS_DIR", pathlib.Path.home() / ".cache/citrate/models"))

DTYPES = {np.dtype("float32"): 0, np.dtype("float16"): 1, np.dtype("float64"): 3, np.dtype("int8"): 4,
          np.dtype("uint8"): 5, np.dtype("int16"): 6, np.dtype("int32"): 7, np.dtype("int64"): 8,
          np.dtype("bool"): 9}

# The sentences the feature-extraction golden embeds.
SENTENCES = [
    "A man is playing a guitar.",
    "The new movie is awesome and everybody should watch it this weekend!",
]


def encode(tensors):
    """CTEN v1: the layout documented in primitives/tensor/src/lib.rs."""
    out = bytearray(b"CTEN") + bytes([1, len(tensors)])
    for name, array in tensors:
        array = np.ascontiguousarray(array)
        raw = name.encode()
        out += bytes([len(raw)]) + raw + bytes([DTYPES[array.dtype], array.ndim])
        out += b"".join(struct.pack("<I", d) for d in array.shape)
        out += array.astype(array.dtype.newbyteorder("<")).tobytes()
    return bytes(out)


def lcg_values(count, seed):
    """count values k/255 (float32), k the top byte of a 32-bit LCG (Numerical Recipes)."""
    x = seed & 0xFFFFFFFF
    out = np.empty(count, dtype=np.float32)
    for i in range(count):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
        out[i] = np.float32(x >> 24) / np.float32(255)
    return out


def lcg_tensor(shape, seed):
    return lcg_values(int(np.prod(shape)), seed).reshape(shape)


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(MODELS / path), options, providers=["CPUExecutionProvider"])


def write(name, tensors):
    path = OUT / f"{name}.cten"
    path.write_bytes(encode(tensors))
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


def minilm():
    tokenizer = Tokenizer.from_file(str(MODELS / "all-minilm-l6-v2/tokenizer.json"))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest sentence
    encodings = tokenizer.encode_batch(SENTENCES)
    feeds = {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    hidden = session("all-minilm-l6-v2-int8/model.onnx").run(None, feeds)[0]
    mask = feeds["attention_mask"][..., None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
    embeddings = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    write("minilm-int8", list(feeds.items()) + [("last_hidden_state", hidden),
                                                 ("embeddings", embeddings.astype(np.float32))])


def silero():
    # Three 512-sample chunks of a 440 Hz tone over LCG noise, each with 64 samples of left
    # context (zeros before the first), as the pipeline feeds them.
    t = np.arange(3 * 512, dtype=np.float32) / np.float32(16000)
    audio = (np.float32(0.5) * np.sin(np.float32(2 * np.pi * 440) * t)).astype(np.float32)
    audio += (lcg_values(3 * 512, 7) - np.float32(0.5)) * np.float32(0.1)
    padded = np.concatenate([np.zeros(64, dtype=np.float32), audio])
    chunks = np.stack([padded[i * 512:i * 512 + 576] for i in range(3)])

    vad = session("silero-vad/silero_vad_16k.onnx")
    state = np.zeros((2, 1, 128), dtype=np.float32)
    probs = []
    for chunk in chunks:
        prob, state = vad.run(None, {"input": chunk[None, :], "state": state})
        probs.append(prob.reshape(()))
    write("silero-vad", [("chunks", chunks), ("probabilities", np.array(probs, dtype=np.float32)),
                         ("state", state)])

    sequence = session("silero-vad/silero_vad_16k_sequence.onnx")
    zeros = np.zeros((1, 1, 128), dtype=np.float32)
    speech, hn, cn = sequence.run(None, {"input": chunks, "h": zeros, "c": zeros})
    write("silero-vad-sequence", [("speech_probs", speech), ("hn", hn), ("cn", cn)])


def ppocr():
    det = session("pp-ocrv4/det.onnx").run(None, {"x": lcg_tensor((1, 3, 64, 96), 1)})[0]
    rec = session("pp-ocrv4/rec.onnx").run(None, {"x": lcg_tensor((1, 3, 48, 32), 2)})[0]
    cls = session("pp-ocrv4/cls.onnx").run(None, {"x": lcg_tensor((1, 3, 48, 192), 3)})[0]
    write("ppocr-det", [("output", det)])
    write("ppocr-rec", [("output", rec)])
    write("ppocr-cls", [("output", cls)])


def terrain():
    noisy = lcg_tensor((1, 1, 128, 128), 4) * np.float32(2) - np.float32(1)
    feeds = {"noisy": noisy, "sigma": np.array([0.5], dtype=np.float32),
             "difficulty": np.array([1.0], dtype=np.float32)}
    write("terrain-unet", [("denoised", session("terrain-unet/unet.onnx").run(None, feeds)[0])])


def efficientnet():
    # The converted model (scripts/convert/efficientnet_lite0.py, via fetch-models.py).
    images = lcg_tensor((1, 3, 224, 224), 5) * np.float32(2) - np.float32(1)
    logits = session("efficientnet-lite0/model.onnx").run(None, {"images": images})[0]
    write("efficientnet-lite0", [("logits", logits)])


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"onnxruntime {ort.__version__}, numpy {np.__version__}", file=sys.stderr)
    minilm()
    silero()
    ppocr()
    terrain()
    efficientnet()
