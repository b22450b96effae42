#!/usr/bin/env python3
"""onnxruntime's side of the inference benchmark (crates/inference/benches/models.rs runs it).

    bench_onnxruntime.py MODEL.onnx INPUTS.cten THREADS RUNS

Prints one JSON line: load_ms, warm latencies (ms) and the peak RSS growth over the process
before loading (bytes). Needs `onnxruntime` and `numpy` (scripts/bench-inference.sh sets up
a venv).
"""

import json
import resource
import struct
import sys
import time

import numpy as np
import onnxruntime as ort

DTYPES = {0: np.float32, 1: np.float16, 3: np.float64, 4: np.int8, 5: np.uint8, 6: np.int16,
          7: np.int32, 8: np.int64, 9: np.bool_}


def decode(data):
    """CTEN v1 (primitives/tensor/src/lib.rs) to {name: array}."""
    assert data[:4] == b"CTEN" and data[4] == 1
    count, pos, out = data[5], 6, {}
    for _ in range(count):
        n = data[pos]
        name = data[pos + 1:pos + 1 + n].decode()
        pos += 1 + n
        dtype, rank = DTYPES[data[pos]], data[pos + 1]
        pos += 2
        shape = struct.unpack(f"<{rank}I", data[pos:pos + 4 * rank])
        pos += 4 * rank
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        out[name] = np.frombuffer(data[pos:pos + size], dtype=dtype).reshape(shape)
        pos += size
    return out


def rss_peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    model, inputs, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    feeds = decode(open(inputs, "rb").read())
    baseline = rss_peak()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    start = time.perf_counter()
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    load_ms = (time.perf_counter() - start) * 1000
    latencies = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        latencies.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"load_ms": load_ms, "latencies_ms": latencies,
                      "peak_rss_bytes": max(rss_peak() - baseline, 0),
                      "version": ort.__version__}))


if __name__ == "__main__":
    main()
