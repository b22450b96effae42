"""A minimal ONNX protobuf writer: the few messages a converted model needs, encoded by hand
so the bytes depend on this code alone (no onnx/protobuf package versions)."""

import struct

FLOAT = 1  # TensorProto.DataType
INT64 = 7
UINT8 = 2


def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number, wire, payload):
    return _varint(number << 3 | wire) + payload


def _int(number, value):
    return _field(number, 0, _varint(value))


def _bytes(number, value):
    if isinstance(value, str):
        value = value.encode()
    return _field(number, 2, _varint(len(value)) + value)


def _float(number, value):
    return _field(number, 5, struct.pack("<f", value))


def tensor(name, dims, values, data_type=FLOAT):
    raw = struct.pack(f"<{len(values)}{'f' if data_type == FLOAT else 'q'}", *values)
    packed_dims = b"".join(_varint(d) for d in dims)
    return (_bytes(1, packed_dims) if dims else b"") + _int(2, data_type) + _bytes(8, name) + _bytes(9, raw)


def attribute(name, value):
    if isinstance(value, float):
        return _bytes(1, name) + _float(2, value) + _int(20, 1)
    if isinstance(value, int):
        return _bytes(1, name) + _int(3, value) + _int(20, 2)
    if isinstance(value, str):
        return _bytes(1, name) + _bytes(4, value) + _int(20, 3)
    if isinstance(value, list):  # ints
        return _bytes(1, name) + b"".join(_int(8, v) for v in value) + _int(20, 7)
    if isinstance(value, Graph):  # a subgraph (If's branches)
        return _bytes(1, name) + _bytes(6, value.data) + _int(20, 5)
    raise TypeError(value)


class Graph:
    """An encoded GraphProto, for subgraph attributes."""

    def __init__(self, data):
        self.data = data


def graph(nodes, name, initializers, inputs, outputs):
    data = b"".join(_bytes(1, n) for n in nodes) + _bytes(2, name)
    data += b"".join(_bytes(5, t) for t in initializers)
    data += b"".join(_bytes(11, i) for i in inputs) + b"".join(_bytes(12, o) for o in outputs)
    return Graph(data)


def node(op_type, inputs, outputs, name, **attributes):
    out = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
    out += _bytes(3, name) + _bytes(4, op_type)
    for key in sorted(attributes):
        out += _bytes(5, attribute(key, attributes[key]))
    return out


def value_info(name, elem_type, dims):
    """dims: ints or strings (symbolic)."""
    shape = b"".join(
        _bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    tensor_type = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def model(nodes, initializers, inputs, outputs, graph_name, opset, producer, metadata=None):
    """metadata: {key: value} written as the model's metadata_props."""
    body = graph(nodes, graph_name, initializers, inputs, outputs).data
    opset_import = _bytes(1, "") + _int(2, opset)
    props = b"".join(_bytes(14, _bytes(1, k) + _bytes(2, v)) for k, v in sorted((metadata or {}).items()))
    return (_int(1, 8) + _bytes(2, producer[0]) + _bytes(3, producer[1]) + _bytes(7, body)
            + _bytes(8, opset_import) + props)
