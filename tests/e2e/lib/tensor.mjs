// The tensor codec's canonical form (`citrate-tensor-primitives`, "CTEN"), as a dapp writes
// request inputs and reads outputs: magic "CTEN", version 1, tensor count, then per tensor
// its name length and UTF-8 name, dtype code, rank, u32 LE dims and little-endian data.
// Pass the bytes to polkadot.js as hex (`u8aToHex`): a Uint8Array given for `Bytes` is read as
// already SCALE-encoded, length prefix included.

export const DType = { F32: 0, F16: 1, BF16: 2, F64: 3, I8: 4, U8: 5, I16: 6, I32: 7, I64: 8, Bool: 9 };
const ELEMENT_BYTES = [4, 2, 2, 8, 1, 1, 2, 4, 8, 1];

/** Encodes `[{ name, dtype, shape, data: Uint8Array }]`. */
export function encodeTensors(tensors) {
  const parts = [Uint8Array.from([0x43, 0x54, 0x45, 0x4e, 1, tensors.length])];
  for (const { name, dtype, shape, data } of tensors) {
    const nameBytes = new TextEncoder().encode(name);
    const head = new Uint8Array(1 + nameBytes.length + 2 + 4 * shape.length);
    const view = new DataView(head.buffer);
    head[0] = nameBytes.length;
    head.set(nameBytes, 1);
    head[1 + nameBytes.length] = dtype;
    head[2 + nameBytes.length] = shape.length;
    shape.forEach((d, i) => view.setUint32(3 + nameBytes.length + 4 * i, d, true));
    parts.push(head, data);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

/** A request's `text` tensor (u8 UTF-8). */
export function textInput(text) {
  const data = new TextEncoder().encode(text);
  return encodeTensors([{ name: 'text', dtype: DType.U8, shape: [data.length], data }]);
}

/** Decodes CTEN bytes into `[{ name, dtype, shape, data }]`; f32 tensors also get `values`. */
export function decodeTensors(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== 'CTEN' || bytes[4] !== 1) throw new Error('not CTEN v1');
  const tensors = [];
  let at = 6;
  for (let t = 0; t < bytes[5]; t++) {
    const nameLength = bytes[at];
    const name = new TextDecoder().decode(bytes.subarray(at + 1, at + 1 + nameLength));
    at += 1 + nameLength;
    const dtype = bytes[at];
    const rank = bytes[at + 1];
    at += 2;
    const shape = [];
    for (let d = 0; d < rank; d++) { shape.push(view.getUint32(at, true)); at += 4; }
    const length = shape.reduce((n, d) => n * d, 1) * ELEMENT_BYTES[dtype];
    const data = bytes.slice(at, at + length);
    at += length;
    const tensor = { name, dtype, shape, data };
    if (dtype === DType.F32) {
      tensor.values = Array.from({ length: length / 4 }, (_, i) =>
        new DataView(data.buffer).getFloat32(4 * i, true));
    }
    tensors.push(tensor);
  }
  return tensors;
}
