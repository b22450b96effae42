"""Reads a PyTorch state_dict saved in the legacy (pre-1.6, non-zip) format without torch.

The file is five pickles (magic number, protocol version, sys info, the state_dict with
storages as persistent ids, the storage keys) followed by each storage's raw bytes (an int64
element count, then the elements). Only what state_dicts of plain tensors use is accepted;
anything else is refused by name, so a hostile pickle cannot run code.
"""

import array
import collections
import pickle
import struct

MAGIC = 0x1950A86A20F9469CFC6C
PROTOCOL = 1001

# storage class -> (array typecode, element size)
STORAGES = {
    "FloatStorage": ("f", 4),
    "DoubleStorage": ("d", 8),
    "LongStorage": ("q", 8),
    "IntStorage": ("i", 4),
    "ByteStorage": ("B", 1),
}


class Tensor:
    """A strided view of a storage, as torch._utils._rebuild_tensor_v2 describes it."""

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, tuple(shape), tuple(stride)

    def values(self):
        """The elements in row-major order, as Python numbers."""
        data = self.storage.data
        out = []

        def walk(dim, base):
            if dim == len(self.shape):
                out.append(data[base])
                return
            for i in range(self.shape[dim]):
                walk(dim + 1, base + i * self.stride[dim])

        walk(0, self.offset)
        return out


class _Storage:
    def __init__(self, kind, numel):
        self.kind, self.numel, self.data = kind, numel, None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file, encoding="latin1")
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch" and name in STORAGES:
            return name
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return lambda storage, offset, shape, stride, *_: Tensor(storage, offset, shape, stride)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"refusing {module}.{name}")

    def persistent_load(self, saved_id):
        kind, storage_type, key, _location, numel = saved_id[:5]
        if kind != "storage" or storage_type not in STORAGES:
            raise pickle.UnpicklingError(f"unsupported persistent id {saved_id!r}")
        return self.storages.setdefault(key, _Storage(storage_type, numel))


def load(path):
    """The state_dict in `path`: an OrderedDict of name -> Tensor."""
    storages = {}
    with open(path, "rb") as f:
        read = lambda: _Unpickler(f, storages).load()
        if read() != MAGIC:
            raise ValueError(f"{path}: not a legacy PyTorch file")
        if read() != PROTOCOL:
            raise ValueError(f"{path}: unsupported protocol")
        sys_info = read()
        if not sys_info.get("little_endian", False):
            raise ValueError(f"{path}: big-endian file")
        state = read()
        for key in read():
            storage = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            typecode, size = STORAGES[storage.kind]
            raw = f.read(numel * size)
            if numel != storage.numel or len(raw) != numel * size:
                raise ValueError(f"{path}: storage {key} is truncated")
            storage.data = array.array(typecode, raw)
    return state
