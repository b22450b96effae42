//! The tensor codec: exact bytes of the documented layout, round trips of every dtype,
//! every refusal, and property tests (random valid payloads round-trip byte for byte;
//! random and mutated bytes never panic and never decode to a non-canonical form).

use citrate_tensor_primitives::*;
use proptest::prelude::*;

fn tensor(name: &str, dtype: DType, shape: Vec<u32>) -> Tensor {
	let len = shape.iter().product::<u32>() as usize * dtype.size();
	let data =
		(0..len).map(|i| if dtype == DType::Bool { (i % 2) as u8 } else { i as u8 }).collect();
	Tensor::new(name, dtype, shape, data).unwrap()
}

#[test]
fn the_layout_is_the_documented_one() {
	let x = Tensor::from_f32("x", vec![2], &[1.0, -2.5]).unwrap();
	let flag = Tensor::new("ok", DType::Bool, vec![], vec![1]).unwrap();
	let bytes = encode(&[x, flag]).unwrap();
	let mut expected = b"CTEN".to_vec();
	expected.extend_from_slice(&[1, 2]); // version, count
	expected.extend_from_slice(&[1, b'x', 0, 1, 2, 0, 0, 0]); // name, f32, rank 1, dim 2
	expected.extend_from_slice(&1.0f32.to_le_bytes());
	expected.extend_from_slice(&(-2.5f32).to_le_bytes());
	expected.extend_from_slice(&[2, b'o', b'k', 9, 0, 1]); // name, bool, rank 0 (scalar), true
	assert_eq!(bytes, expected);
	let decoded = decode(&bytes).unwrap();
	assert_eq!(decoded[0].to_f32(), Some(vec![1.0, -2.5]));
	assert_eq!((decoded[1].dtype, decoded[1].elements()), (DType::Bool, Ok(1)));
}

#[test]
fn every_dtype_round_trips_including_scalars_and_empty_tensors() {
	for dtype in DType::ALL {
		assert_eq!(DType::from_code(dtype as u8), Some(dtype));
		for shape in [vec![], vec![0], vec![3], vec![2, 3, 1], vec![1, 0, 7]] {
			let t = tensor("t", dtype, shape);
			let bytes = encode(std::slice::from_ref(&t)).unwrap();
			assert_eq!(decode(&bytes).unwrap(), [t]);
		}
	}
	let unicode = tensor("входные_данные", DType::I64, vec![2]);
	assert_eq!(decode(&encode(std::slice::from_ref(&unicode)).unwrap()).unwrap(), [unicode]);
	assert_eq!(decode(&encode(&[]).unwrap()).unwrap(), []);
}

#[test]
fn malformed_payloads_get_a_clear_error() {
	let good = encode(&[tensor("a", DType::I32, vec![2, 2])]).unwrap();
	let with = |at: usize, byte: u8| {
		let mut b = good.clone();
		b[at] = byte;
		b
	};
	assert_eq!(decode(b"NOPE\x01\x00"), Err(CodecError::BadMagic));
	assert_eq!(decode(&with(4, 2)), Err(CodecError::UnsupportedVersion(2)));
	assert_eq!(decode(&with(8, 10)), Err(CodecError::UnknownDType(10)));
	assert_eq!(decode(&with(9, 9)), Err(CodecError::RankTooHigh(9)));
	assert_eq!(decode(&with(6, 0)), Err(CodecError::BadName));
	assert_eq!(decode(&with(7, 0xff)), Err(CodecError::BadName), "not UTF-8");
	for len in 0..good.len() {
		assert!(decode(&good[..len]).is_err(), "prefix of {len} bytes");
	}
	let mut trailing = good.clone();
	trailing.push(0);
	assert_eq!(decode(&trailing), Err(CodecError::TrailingBytes(1)));
	let mut twice = good.clone();
	twice[5] = 2;
	twice.extend_from_slice(&good[6..]);
	assert_eq!(decode(&twice), Err(CodecError::DuplicateName("a".into())));
	// A bool of 2.
	let mut flag = encode(&[tensor("b", DType::Bool, vec![1])]).unwrap();
	*flag.last_mut().unwrap() = 2;
	assert_eq!(decode(&flag), Err(CodecError::BadBool));
	// Shape and length mismatch when building.
	assert_eq!(
		Tensor::new("t", DType::F32, vec![2], vec![0; 7]),
		Err(CodecError::DataLength { expected: 8, actual: 7 })
	);
	assert_eq!(
		encode(&[tensor("x", DType::U8, vec![1]), tensor("x", DType::U8, vec![1])]),
		Err(CodecError::DuplicateName("x".into()))
	);
	assert!(Tensor::new("", DType::U8, vec![], vec![0]).is_err());
	assert!(Tensor::new("n".repeat(65), DType::U8, vec![], vec![0]).is_err());
	assert_eq!(
		Tensor::new("deep", DType::U8, vec![1; 9], vec![0]),
		Err(CodecError::RankTooHigh(9))
	);
}

#[test]
fn declared_sizes_are_checked_before_anything_is_allocated() {
	// Four dims of 2^32 - 1 overflow u64; two of them exceed the element limit. Both are
	// refused from a payload of a few bytes, without reserving the declared size.
	let mut header = b"CTEN\x01\x01\x01x\x00".to_vec();
	let mut overflow = header.clone();
	overflow.push(4);
	for _ in 0..4 {
		overflow.extend_from_slice(&u32::MAX.to_le_bytes());
	}
	assert_eq!(decode(&overflow), Err(CodecError::ShapeOverflow));
	header.push(2);
	header.extend_from_slice(&u32::MAX.to_le_bytes());
	header.extend_from_slice(&u32::MAX.to_le_bytes());
	assert!(matches!(decode(&header), Err(CodecError::TooManyElements { .. })));
	// Without an element limit: the f32 byte length overflows; as u8 it exceeds the bytes
	// present.
	let unlimited = Limits { max_elements: u64::MAX, ..Limits::default() };
	assert_eq!(decode_with(&header, &unlimited), Err(CodecError::ShapeOverflow));
	header[8] = DType::U8 as u8;
	assert_eq!(decode_with(&header, &unlimited), Err(CodecError::Truncated));
	// Payload and tensor-count limits.
	let tight = Limits { max_tensors: 1, max_elements: 4, max_bytes: 64 };
	let two = encode(&[tensor("a", DType::U8, vec![1]), tensor("b", DType::U8, vec![1])]).unwrap();
	assert_eq!(decode_with(&two, &tight), Err(CodecError::TooManyTensors { count: 2, limit: 1 }));
	let big = encode(&[tensor("a", DType::U8, vec![100])]).unwrap();
	assert!(matches!(decode_with(&big, &tight), Err(CodecError::TooLarge { .. })));
}

fn any_tensor() -> impl Strategy<Value = Tensor> {
	let dtype = (0u8..10).prop_map(|code| DType::from_code(code).unwrap());
	let shape = proptest::collection::vec(0u32..4, 0..4);
	("[a-z_][a-z0-9_.:]{0,20}", dtype, shape).prop_flat_map(|(name, dtype, shape)| {
		let len = shape.iter().product::<u32>() as usize * dtype.size();
		let byte = if dtype == DType::Bool { (0u8..2).boxed() } else { any::<u8>().boxed() };
		proptest::collection::vec(byte, len)
			.prop_map(move |data| Tensor::new(name.clone(), dtype, shape.clone(), data).unwrap())
	})
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(512))]

	#[test]
	fn valid_payloads_round_trip_byte_for_byte(tensors in proptest::collection::vec(any_tensor(), 0..6)) {
		let mut unique = tensors;
		unique.dedup_by(|a, b| a.name == b.name);
		let mut seen = std::collections::HashSet::new();
		unique.retain(|t| seen.insert(t.name.clone()));
		let bytes = encode(&unique).unwrap();
		let decoded = decode(&bytes).unwrap();
		prop_assert_eq!(&decoded, &unique);
		prop_assert_eq!(encode(&decoded).unwrap(), bytes);
	}

	#[test]
	fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
		let _ = decode(&bytes);
		let mut framed = b"CTEN\x01".to_vec();
		framed.extend_from_slice(&bytes);
		if let Ok(tensors) = decode(&framed) {
			// Whatever decodes is canonical.
			prop_assert_eq!(encode(&tensors).unwrap(), framed);
		}
	}

	#[test]
	fn mutated_payloads_are_refused_or_canonical(
		tensors in proptest::collection::vec(any_tensor(), 1..4),
		at in any::<prop::sample::Index>(),
		byte in any::<u8>(),
		cut in any::<prop::sample::Index>(),
	) {
		let mut seen = std::collections::HashSet::new();
		let unique: Vec<_> = tensors.into_iter().filter(|t| seen.insert(t.name.clone())).collect();
		let mut bytes = encode(&unique).unwrap();
		let i = at.index(bytes.len());
		bytes[i] = byte;
		let cut = cut.index(bytes.len() + 1);
		for candidate in [&bytes[..], &bytes[..cut]] {
			if let Ok(decoded) = decode(candidate) {
				prop_assert_eq!(encode(&decoded).unwrap(), candidate.to_vec());
			}
		}
	}
}
