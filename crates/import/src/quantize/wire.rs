//! Reading and writing ONNX's protobuf on the wire, so a rewrite keeps every field it does
//! not touch byte for byte (including fields this crate's schema does not know).

use std::collections::BTreeMap;

/// A node's bytes with its input 1 (the weight) renamed as `renamed` says; all its other
/// fields as they were.
pub(super) fn rename_weight_input(
	node: &[u8],
	renamed: &BTreeMap<String, String>,
) -> Result<Vec<u8>, String> {
	let mut out = Vec::with_capacity(node.len() + 16);
	let mut input = 0;
	for field in fields(node)? {
		if field.number == NODE_INPUT {
			let name =
				std::str::from_utf8(field.payload).map_err(|e| format!("a node input: {e}"))?;
			match renamed.get(name) {
				Some(new) if input == 1 => put_len(&mut out, NODE_INPUT, new.as_bytes()),
				_ => out.extend_from_slice(field.raw),
			}
			input += 1;
		} else {
			out.extend_from_slice(field.raw);
		}
	}
	Ok(out)
}

// Field numbers of onnx.proto.
pub(super) const MODEL_GRAPH: u32 = 7;
pub(super) const GRAPH_NODE: u32 = 1;
pub(super) const GRAPH_INITIALIZER: u32 = 5;
pub(super) const GRAPH_INPUT: u32 = 11;
pub(super) const NODE_INPUT: u32 = 1;

/// One field of a protobuf message on the wire.
pub(super) struct Field<'a> {
	pub(super) number: u32,
	/// The whole field: key and value.
	pub(super) raw: &'a [u8],
	/// A length-delimited field's bytes (empty for other wire types).
	pub(super) payload: &'a [u8],
}

pub(super) fn read_varint(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
	let mut value = 0u64;
	for shift in (0..64).step_by(7) {
		let byte = *bytes.get(*at).ok_or("a truncated varint")?;
		*at += 1;
		value |= u64::from(byte & 0x7f) << shift;
		if byte & 0x80 == 0 {
			return Ok(value);
		}
	}
	Err("a varint longer than 10 bytes".into())
}

pub(super) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
	while value >= 0x80 {
		out.push((value as u8) | 0x80);
		value >>= 7;
	}
	out.push(value as u8);
}

/// Appends a length-delimited field.
pub(super) fn put_len(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
	put_varint(out, (u64::from(number) << 3) | 2);
	put_varint(out, payload.len() as u64);
	out.extend_from_slice(payload);
}

/// The fields of a message, in order.
pub(super) fn fields(bytes: &[u8]) -> Result<Vec<Field<'_>>, String> {
	let mut fields = vec![];
	let mut at = 0;
	while at < bytes.len() {
		let start = at;
		let key = read_varint(bytes, &mut at)?;
		let number = u32::try_from(key >> 3).map_err(|_| "a field number out of range")?;
		let mut payload: &[u8] = &[];
		match key & 7 {
			0 => {
				read_varint(bytes, &mut at)?;
			}
			1 => at += 8,
			2 => {
				let len = usize::try_from(read_varint(bytes, &mut at)?)
					.map_err(|_| "a length out of range")?;
				let end = at
					.checked_add(len)
					.filter(|&end| end <= bytes.len())
					.ok_or("a truncated field")?;
				payload = &bytes[at..end];
				at = end;
			}
			5 => at += 4,
			wire => return Err(format!("protobuf wire type {wire} (groups) is not ONNX")),
		}
		if at > bytes.len() {
			return Err("a truncated field".into());
		}
		fields.push(Field { number, raw: &bytes[start..at], payload });
	}
	Ok(fields)
}

/// The one field `number` of a message, a message itself.
pub(super) fn sub_message(bytes: &[u8], number: u32) -> Result<&[u8], String> {
	let mut found = fields(bytes)?.into_iter().filter(|f| f.number == number);
	match (found.next(), found.next()) {
		(Some(field), None) => Ok(field.payload),
		(None, _) => Err(format!("no field {number}")),
		(Some(_), Some(_)) => Err(format!("field {number} appears more than once")),
	}
}
