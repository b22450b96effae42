//! A small parser for the textual IPFS CIDs users paste into extrinsics; parsing allocates
//! nothing.
//!
//! Accepted forms:
//! - CIDv0: 46 base58btc characters starting with `Qm` (a sha2-256 multihash, dag-pb codec);
//! - CIDv1: a multibase string whose prefix is `b`/`B` (base32, RFC 4648 without padding),
//!   `z` (base58btc) or `f`/`F` (base16), carrying `version=1 · codec · multihash`.
//!
//! The multihash must be complete (declared digest length matches the bytes present) and
//! nothing may follow it. The runtime never needs the full CID library: later pallets use
//! [`Cid::digest`] to check blocks against the registered root.

use alloc::vec::Vec;

/// Longest textual CID this parser looks at; longer input is rejected before decoding.
pub const MAX_CID_TEXT_LEN: usize = 128;
/// Longest multihash digest kept in a parsed [`Cid`].
pub const MAX_DIGEST_LEN: usize = 64;

/// Longest binary CIDv1 [`Cid::to_v1_bytes`] produces: version, two 9-byte varints, the
/// digest length and the digest.
pub const MAX_BINARY_CID_LEN: usize = 1 + 9 + 9 + 1 + MAX_DIGEST_LEN;

/// Multicodec code of dag-pb (UnixFS), the codec of every CIDv0.
pub const DAG_PB: u64 = 0x70;
/// Multicodec code of raw leaves (`ipfs add --raw-leaves`).
pub const RAW: u64 = 0x55;
/// Multihash code of sha2-256.
pub const SHA2_256: u64 = 0x12;

/// Why a CID was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CidError {
	/// Empty input or longer than [`MAX_CID_TEXT_LEN`].
	BadLength,
	/// The multibase prefix is not one of `b`, `B`, `z`, `f`, `F` (or `Qm…` for CIDv0).
	UnsupportedMultibase,
	/// A character outside the multibase alphabet.
	BadEncoding,
	/// The decoded bytes are not `version · codec · multihash`.
	Malformed,
	/// A CID version other than 0 or 1.
	UnsupportedVersion,
	/// The multihash digest is empty, too long, or not the length its hash function requires.
	BadDigest,
}

/// A parsed CID: its version, content codec and multihash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cid {
	pub version: u8,
	pub codec: u64,
	pub hash_code: u64,
	digest: [u8; MAX_DIGEST_LEN],
	digest_len: u8,
}

impl Cid {
	/// The multihash digest (e.g. the sha2-256 of the root block).
	pub fn digest(&self) -> &[u8] {
		&self.digest[..self.digest_len as usize]
	}

	/// Whether a Citrate store can hold this content and proofs of holding can check it:
	/// sha2-256 over dag-pb (UnixFS) or raw blocks. Identity multihashes, other hashes and
	/// other codecs are refused everywhere a CID is registered or pinned.
	pub fn is_storable(&self) -> bool {
		self.hash_code == SHA2_256 && (self.codec == DAG_PB || self.codec == RAW)
	}

	/// The binary CIDv1 (`0x01 · codec · hash code · length · digest`) naming the same content,
	/// whatever the text form: a CIDv0 and its base32 CIDv1 give the same bytes. Returns the
	/// buffer and the number of bytes used.
	pub fn to_v1_bytes(&self) -> ([u8; MAX_BINARY_CID_LEN], usize) {
		let mut out = [0u8; MAX_BINARY_CID_LEN];
		let mut len = 0;
		for value in [1, self.codec, self.hash_code, u64::from(self.digest_len)] {
			let mut v = value;
			loop {
				let byte = (v & 0x7f) as u8;
				v >>= 7;
				out[len] = if v == 0 { byte } else { byte | 0x80 };
				len += 1;
				if v == 0 {
					break;
				}
			}
		}
		out[len..len + self.digest().len()].copy_from_slice(self.digest());
		(out, len + self.digest().len())
	}
}

/// The base16 text (`f01…`) of a binary CID, as gateways and `ipfs` commands accept it.
pub fn base16_text(binary: &[u8]) -> Vec<u8> {
	const HEX: &[u8; 16] = b"0123456789abcdef";
	let mut text = Vec::with_capacity(1 + 2 * binary.len());
	text.push(b'f');
	for byte in binary {
		text.extend_from_slice(&[HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0x0f)]]);
	}
	text
}

/// The base16 text (`f01551220…`) of the CIDv1 naming one raw block whose sha2-256 is
/// `digest`.
pub fn raw_sha256_v1_base16(digest: &[u8; 32]) -> Vec<u8> {
	base16_text(&[&[0x01, 0x55, 0x12, 0x20][..], digest].concat())
}

/// Parses a binary CID: a bare sha2-256 multihash (CIDv0, as dag-pb links to v0 blocks hold
/// it) or `0x01 · codec · multihash` (CIDv1).
pub fn from_binary(bytes: &[u8]) -> Result<Cid, CidError> {
	if bytes.len() == 34 && bytes[0] == 0x12 && bytes[1] == 0x20 {
		parse_v0(bytes)
	} else {
		parse_v1(bytes)
	}
}

/// Parses a textual CID (v0 or v1).
pub fn parse(text: &[u8]) -> Result<Cid, CidError> {
	if text.is_empty() || text.len() > MAX_CID_TEXT_LEN {
		return Err(CidError::BadLength);
	}
	let mut buf = [0u8; MAX_CID_TEXT_LEN];
	if text.len() == 46 && text.starts_with(b"Qm") {
		let bytes = decode_base58btc(text, &mut buf)?;
		return parse_v0(bytes);
	}
	let bytes = match text[0] {
		b'b' => decode_base32(&text[1..], false, &mut buf)?,
		b'B' => decode_base32(&text[1..], true, &mut buf)?,
		b'z' => decode_base58btc(&text[1..], &mut buf)?,
		b'f' => decode_base16(&text[1..], false, &mut buf)?,
		b'F' => decode_base16(&text[1..], true, &mut buf)?,
		_ => return Err(CidError::UnsupportedMultibase),
	};
	parse_v1(bytes)
}

fn parse_v0(bytes: &[u8]) -> Result<Cid, CidError> {
	// A CIDv0 is a bare sha2-256 multihash.
	if bytes.len() != 34 || bytes[0] != 0x12 || bytes[1] != 0x20 {
		return Err(CidError::Malformed);
	}
	let mut digest = [0u8; MAX_DIGEST_LEN];
	digest[..32].copy_from_slice(&bytes[2..]);
	Ok(Cid { version: 0, codec: DAG_PB, hash_code: SHA2_256, digest, digest_len: 32 })
}

fn parse_v1(bytes: &[u8]) -> Result<Cid, CidError> {
	let mut rest = bytes;
	let version = read_varint(&mut rest)?;
	match version {
		1 => {}
		// A multibase-encoded CIDv0 starts with the sha2-256 multihash code instead.
		0x12 => return Err(CidError::Malformed),
		_ => return Err(CidError::UnsupportedVersion),
	}
	let codec = read_varint(&mut rest)?;
	let hash_code = read_varint(&mut rest)?;
	let digest_len = read_varint(&mut rest)? as usize;
	if digest_len == 0 || digest_len > MAX_DIGEST_LEN {
		return Err(CidError::BadDigest);
	}
	if rest.len() != digest_len {
		return Err(CidError::Malformed);
	}
	if expected_digest_len(hash_code).is_some_and(|expected| expected != digest_len) {
		return Err(CidError::BadDigest);
	}
	let mut digest = [0u8; MAX_DIGEST_LEN];
	digest[..digest_len].copy_from_slice(rest);
	Ok(Cid { version: 1, codec, hash_code, digest, digest_len: digest_len as u8 })
}

/// Digest lengths fixed by the common hash functions.
fn expected_digest_len(hash_code: u64) -> Option<usize> {
	match hash_code {
		0x12 => Some(32),   // sha2-256
		0x13 => Some(64),   // sha2-512
		0x16 => Some(32),   // sha3-256
		0x1b => Some(32),   // keccak-256
		0xb220 => Some(32), // blake2b-256
		0xb240 => Some(64), // blake2b-512
		_ => None,
	}
}

/// Reads an unsigned LEB128 varint of at most 9 bytes (the multiformats limit).
fn read_varint(input: &mut &[u8]) -> Result<u64, CidError> {
	let mut value: u64 = 0;
	for i in 0..9 {
		let (&byte, rest) = input.split_first().ok_or(CidError::Malformed)?;
		*input = rest;
		value |= u64::from(byte & 0x7f) << (7 * i);
		if byte & 0x80 == 0 {
			// Reject non-minimal encodings such as 0x81 0x00.
			if i > 0 && byte == 0 {
				return Err(CidError::Malformed);
			}
			return Ok(value);
		}
	}
	Err(CidError::Malformed)
}

const BASE58_ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn decode_base58btc<'a>(
	text: &[u8],
	out: &'a mut [u8; MAX_CID_TEXT_LEN],
) -> Result<&'a [u8], CidError> {
	if text.is_empty() {
		return Err(CidError::BadLength);
	}
	// Big-endian base conversion into the tail of `out`; quadratic but bounded by 128 chars.
	let mut len = 0usize;
	for &c in text {
		let mut carry =
			BASE58_ALPHABET.iter().position(|&a| a == c).ok_or(CidError::BadEncoding)? as u32;
		for byte in out.iter_mut().rev().take(len) {
			carry += u32::from(*byte) * 58;
			*byte = (carry & 0xff) as u8;
			carry >>= 8;
		}
		while carry > 0 {
			if len == MAX_CID_TEXT_LEN {
				return Err(CidError::Malformed);
			}
			len += 1;
			out[MAX_CID_TEXT_LEN - len] = (carry & 0xff) as u8;
			carry >>= 8;
		}
	}
	// Each leading '1' encodes a leading zero byte.
	let zeros = text.iter().take_while(|&&c| c == b'1').count();
	for _ in 0..zeros {
		if len == MAX_CID_TEXT_LEN {
			return Err(CidError::Malformed);
		}
		len += 1;
		out[MAX_CID_TEXT_LEN - len] = 0;
	}
	Ok(&out[MAX_CID_TEXT_LEN - len..])
}

fn decode_base32<'a>(
	text: &[u8],
	upper: bool,
	out: &'a mut [u8; MAX_CID_TEXT_LEN],
) -> Result<&'a [u8], CidError> {
	let mut bits: u32 = 0;
	let mut nbits = 0u32;
	let mut len = 0usize;
	for &c in text {
		let v = match c {
			b'a'..=b'z' if !upper => c - b'a',
			b'A'..=b'Z' if upper => c - b'A',
			b'2'..=b'7' => c - b'2' + 26,
			_ => return Err(CidError::BadEncoding),
		};
		bits = (bits << 5) | u32::from(v);
		nbits += 5;
		if nbits >= 8 {
			nbits -= 8;
			out[len] = (bits >> nbits) as u8;
			len += 1;
			bits &= (1 << nbits) - 1;
		}
	}
	// Leftover bits must be zero padding shorter than one character.
	if nbits >= 5 || bits != 0 {
		return Err(CidError::BadEncoding);
	}
	Ok(&out[..len])
}

fn decode_base16<'a>(
	text: &[u8],
	upper: bool,
	out: &'a mut [u8; MAX_CID_TEXT_LEN],
) -> Result<&'a [u8], CidError> {
	if !text.len().is_multiple_of(2) {
		return Err(CidError::BadEncoding);
	}
	let nibble = |c: u8| -> Result<u8, CidError> {
		match c {
			b'0'..=b'9' => Ok(c - b'0'),
			b'a'..=b'f' if !upper => Ok(c - b'a' + 10),
			b'A'..=b'F' if upper => Ok(c - b'A' + 10),
			_ => Err(CidError::BadEncoding),
		}
	};
	for (i, pair) in text.chunks_exact(2).enumerate() {
		out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
	}
	Ok(&out[..text.len() / 2])
}

#[cfg(test)]
mod tests {
	use super::*;

	// A CIDv0 and the CIDv1 (dag-pb, base32) of the same root block.
	const V0: &[u8] = b"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
	const V1_DAG_PB: &[u8] = b"bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby";
	// Kubo's CIDv1 (raw leaves) of the empty file.
	const V1_RAW: &[u8] = b"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

	#[test]
	fn builds_the_base16_text_of_a_raw_block_cid() {
		// Kubo's empty-file raw CID has the sha2-256 of no bytes as its digest.
		let empty = parse(V1_RAW).unwrap();
		let digest: [u8; 32] = empty.digest().try_into().unwrap();
		let text = raw_sha256_v1_base16(&digest);
		assert!(text.starts_with(b"f01551220"));
		let rebuilt = parse(&text).unwrap();
		assert_eq!(rebuilt.to_v1_bytes(), empty.to_v1_bytes());
	}

	#[test]
	fn parses_cid_v0() {
		let cid = parse(V0).unwrap();
		assert_eq!((cid.version, cid.codec, cid.hash_code), (0, DAG_PB, SHA2_256));
		assert_eq!(cid.digest().len(), 32);
	}

	#[test]
	fn parses_cid_v1_base32_dag_pb_and_raw() {
		let cid = parse(V1_DAG_PB).unwrap();
		assert_eq!((cid.version, cid.codec, cid.hash_code), (1, DAG_PB, SHA2_256));
		let raw = parse(V1_RAW).unwrap();
		assert_eq!((raw.version, raw.codec), (1, RAW));
	}

	#[test]
	fn v0_and_its_v1_form_share_the_digest() {
		// bafybei… above is the CIDv1 form of QmT78z….
		assert_eq!(parse(V0).unwrap().digest(), parse(V1_DAG_PB).unwrap().digest());
	}

	#[test]
	fn v0_and_v1_texts_of_the_same_content_have_one_binary_form() {
		let (v0, v0_len) = parse(V0).unwrap().to_v1_bytes();
		let (v1, v1_len) = parse(V1_DAG_PB).unwrap().to_v1_bytes();
		assert_eq!(&v0[..v0_len], &v1[..v1_len]);
		assert_eq!(v0_len, 36);
		assert_eq!(&v0[..4], &[0x01, 0x70, 0x12, 0x20]);
		// Multi-byte varints round-trip (blake2b-256 is 0xb220).
		let cid =
			parse(b"f0155a0e40220aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
				.unwrap();
		assert_eq!(parse(&base16(&cid)).unwrap(), cid);
	}

	#[test]
	fn parses_other_multibases_of_the_same_cid() {
		let b32 = parse(V1_DAG_PB).unwrap();
		let mut hex = base16(&b32);
		assert_eq!(parse(&hex).unwrap(), b32);
		hex.make_ascii_uppercase();
		assert_eq!(parse(&hex).unwrap(), b32);
		let mut upper = V1_DAG_PB.to_vec();
		upper.make_ascii_uppercase();
		assert_eq!(parse(&upper).unwrap(), b32);
	}

	/// The base16 (`f…`) text of a CID's binary CIDv1 form.
	fn base16(cid: &Cid) -> std::vec::Vec<u8> {
		let (bytes, len) = cid.to_v1_bytes();
		base16_text(&bytes[..len])
	}

	#[test]
	fn parses_binary_cids_of_both_versions() {
		let v0 = parse(V0).unwrap();
		let mut multihash = std::vec![0x12, 0x20];
		multihash.extend_from_slice(v0.digest());
		assert_eq!(from_binary(&multihash), Ok(v0));
		let raw = parse(V1_RAW).unwrap();
		let (bytes, len) = raw.to_v1_bytes();
		assert_eq!(from_binary(&bytes[..len]), Ok(raw));
		assert_eq!(from_binary(&multihash[..33]), Err(CidError::Malformed));
		assert_eq!(from_binary(&[]), Err(CidError::Malformed));
	}

	#[test]
	fn rejects_malformed_cids() {
		assert_eq!(parse(b""), Err(CidError::BadLength));
		assert_eq!(parse(&[b'b'; 200]), Err(CidError::BadLength));
		assert_eq!(parse(b"not-a-cid"), Err(CidError::UnsupportedMultibase));
		// 0 and l are not base58 characters.
		assert_eq!(
			parse(b"Qm0000000000000000000000000000000000000000000l"),
			Err(CidError::BadEncoding)
		);
		// Truncated CIDv1: the digest is shorter than declared.
		let truncated = [b"f01701220".as_slice(), &[b'a'; 60]].concat();
		assert_eq!(parse(&truncated), Err(CidError::Malformed));
		// Truncation that leaves stray base32 bits is an encoding error.
		assert_eq!(parse(&V1_DAG_PB[..V1_DAG_PB.len() - 4]), Err(CidError::BadEncoding));
		// Uppercase characters in a lowercase base32 string.
		assert_eq!(
			parse(b"bAFYBEIGDYRZT5SFP7UDM7HU76UH7Y26NF3EFUYLQABF3OCLGTQY55FBZDI"),
			Err(CidError::BadEncoding)
		);
		// Version 2 is not a CID version.
		assert_eq!(parse(b"f0270122000"), Err(CidError::UnsupportedVersion));
		// sha2-256 with a 16-byte digest.
		assert_eq!(parse(b"f017012100102030405060708090a0b0c0d0e0f10"), Err(CidError::BadDigest));
		// sha2-256 declared with a 1-byte digest.
		assert_eq!(parse(b"f01551201ff"), Err(CidError::BadDigest));
		// Bytes left after the digest.
		assert_eq!(parse(b"f015500010000"), Err(CidError::Malformed));
		// A CIDv0 multihash wrapped in a multibase prefix is not a CIDv1.
		assert_eq!(
			parse(b"f122046d44814b9c5af141c3aaab7c05dc5e844ead5f91f12858b021eba45768b4c0e"),
			Err(CidError::Malformed)
		);
	}
}
