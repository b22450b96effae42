#!/usr/bin/env python3
"""Converts a CTranslate2 Whisper model (model.bin, spec WhisperSpec) to a Hugging Face-layout
safetensors file, no ctranslate2 or torch.

    whisper_ct2.py IN/model.bin OUT/model.safetensors

CTranslate2 fuses the attention projections (self-attention QKV, cross-attention KV); they are
split back into q_proj/k_proj/v_proj (HF's k_proj has no bias: CTranslate2 stores zeros there,
which are checked and dropped). Weights stay float16, as CTranslate2 stored them. The HF
`config.json` the model needs is written into the safetensors metadata under "config", so one
file carries the model. The output depends only on the input and this code.
"""

import json
import pathlib
import struct
import sys

DTYPES = {0: ("F32", 4), 1: ("I8", 1), 2: ("I16", 2), 3: ("I32", 4), 4: ("F16", 2), 5: ("BF16", 2)}


def read_ct2(path):
    """{name: (dtype, dims, bytes)} and the aliases of a CTranslate2 model.bin (version 6)."""
    data = pathlib.Path(path).read_bytes()
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(data):
            raise ValueError(f"{path}: truncated")
        chunk = data[pos:pos + n]
        pos += n
        return chunk

    u32 = lambda: struct.unpack("<I", take(4))[0]
    string = lambda: take(struct.unpack("<H", take(2))[0]).rstrip(b"\0").decode()
    if u32() != 6:
        raise ValueError(f"{path}: not a CTranslate2 version 6 model")
    if string() != "WhisperSpec":
        raise ValueError(f"{path}: not a Whisper model")
    u32()  # spec revision
    variables = {}
    for _ in range(u32()):
        name = string()
        rank = take(1)[0]
        dims = [u32() for _ in range(rank)]
        dtype, size = DTYPES[take(1)[0]]
        raw = take(u32())
        count = 1
        for d in dims:
            count *= d
        if len(raw) != count * size:
            raise ValueError(f"{path}: {name} has {len(raw)} bytes for {dims}")
        variables[name] = (dtype, dims, raw)
    aliases = {string(): string() for _ in range(u32())}
    return variables, aliases


def scalar(variables, name):
    dtype, _, raw = variables[name]
    return int.from_bytes(raw, "little", signed=True)


def split_rows(var, parts):
    """Splits a [rows, ...] tensor into `parts` equal row blocks."""
    dtype, dims, raw = var
    rows = dims[0] // parts
    step = len(raw) // parts
    return [(dtype, [rows] + dims[1:], raw[i * step:(i + 1) * step]) for i in range(parts)]


def convert(model_bin, out_path):
    v, _aliases = read_ct2(model_bin)
    out = {}

    def put(name, var):
        out[name] = var

    def linear(src, dst, bias=True):
        put(f"{dst}.weight", v[f"{src}/weight"])
        if bias:
            put(f"{dst}.bias", v[f"{src}/bias"])

    def norm(src, dst):
        put(f"{dst}.weight", v[f"{src}/gamma"])
        put(f"{dst}.bias", v[f"{src}/beta"])

    def fused(src, dst, names):
        weights = split_rows(v[f"{src}/weight"], len(names))
        biases = split_rows(v[f"{src}/bias"], len(names))
        for name, weight, bias in zip(names, weights, biases):
            put(f"{dst}.{name}.weight", weight)
            if name == "k_proj":
                if any(bias[2]):
                    raise ValueError(f"{src}: non-zero key bias")
            else:
                put(f"{dst}.{name}.bias", bias)

    def layers(prefix):
        n = 0
        while f"{prefix}/layer_{n}/ffn/linear_0/weight" in v:
            n += 1
        return n

    encoder_layers, decoder_layers = layers("encoder"), layers("decoder")
    for i in (1, 2):
        linear(f"encoder/conv{i}", f"model.encoder.conv{i}")
    put("model.encoder.embed_positions.weight", v["encoder/position_encodings/encodings"])
    norm("encoder/layer_norm", "model.encoder.layer_norm")
    for i in range(encoder_layers):
        src, dst = f"encoder/layer_{i}", f"model.encoder.layers.{i}"
        norm(f"{src}/self_attention/layer_norm", f"{dst}.self_attn_layer_norm")
        fused(f"{src}/self_attention/linear_0", f"{dst}.self_attn", ["q_proj", "k_proj", "v_proj"])
        linear(f"{src}/self_attention/linear_1", f"{dst}.self_attn.out_proj")
        norm(f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm")
        linear(f"{src}/ffn/linear_0", f"{dst}.fc1")
        linear(f"{src}/ffn/linear_1", f"{dst}.fc2")

    put("model.decoder.embed_tokens.weight", v["decoder/embeddings/weight"])
    put("model.decoder.embed_positions.weight", v["decoder/position_encodings/encodings"])
    norm("decoder/layer_norm", "model.decoder.layer_norm")
    for i in range(decoder_layers):
        src, dst = f"decoder/layer_{i}", f"model.decoder.layers.{i}"
        norm(f"{src}/self_attention/layer_norm", f"{dst}.self_attn_layer_norm")
        fused(f"{src}/self_attention/linear_0", f"{dst}.self_attn", ["q_proj", "k_proj", "v_proj"])
        linear(f"{src}/self_attention/linear_1", f"{dst}.self_attn.out_proj")
        norm(f"{src}/attention/layer_norm", f"{dst}.encoder_attn_layer_norm")
        linear(f"{src}/attention/linear_0", f"{dst}.encoder_attn.q_proj")
        fused(f"{src}/attention/linear_1", f"{dst}.encoder_attn", ["k_proj", "v_proj"])
        linear(f"{src}/attention/linear_2", f"{dst}.encoder_attn.out_proj")
        norm(f"{src}/ffn/layer_norm", f"{dst}.final_layer_norm")
        linear(f"{src}/ffn/linear_0", f"{dst}.fc1")
        linear(f"{src}/ffn/linear_1", f"{dst}.fc2")

    vocab, d_model = v["decoder/embeddings/weight"][1]
    ct2_config = json.loads((pathlib.Path(model_bin).parent / "config.json").read_text())
    config = {
        "architectures": ["WhisperForConditionalGeneration"],
        "d_model": d_model,
        "decoder_attention_heads": scalar(v, "decoder/num_heads"),
        "decoder_layers": decoder_layers,
        "encoder_attention_heads": scalar(v, "encoder/num_heads"),
        "encoder_layers": encoder_layers,
        "max_source_positions": v["encoder/position_encodings/encodings"][1][0],
        "max_target_positions": v["decoder/position_encodings/encodings"][1][0],
        "model_type": "whisper",
        "num_mel_bins": v["encoder/conv1/weight"][1][1],
        "suppress_tokens": ct2_config.get("suppress_ids", []),
        "begin_suppress_tokens": ct2_config.get("suppress_ids_begin", []),
        "vocab_size": vocab,
    }
    write_safetensors(out_path, out, {"config": json.dumps(config, sort_keys=True),
                                      "format": "pt", "converted_from": "ctranslate2"})


def write_safetensors(path, tensors, metadata):
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        dtype, dims, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": dims, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    encoded = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    convert(sys.argv[1], sys.argv[2])
