//! Tensor specs: construction refusals, the one dtype numbering, and every way registered
//! specs can disagree with a model's.

use citrate_tensor_primitives::*;
use codec::{Decode, Encode};

fn spec(name: &str, dtype: DType, dims: &[Result<u64, &str>]) -> TensorSpec {
	let dims = dims
		.iter()
		.map(|d| match d {
			Ok(n) => Dim::Fixed(*n),
			Err(s) => Dim::symbolic(s).unwrap(),
		})
		.collect();
	TensorSpec::new(name, dtype, dims).unwrap()
}

#[test]
fn one_numbering_for_codec_bytes_and_scale() {
	for dtype in DType::ALL {
		assert_eq!(dtype.encode(), [dtype as u8], "{dtype}");
		assert_eq!(DType::decode(&mut &[dtype as u8][..]), Ok(dtype));
		assert_eq!(DType::from_code(dtype as u8), Some(dtype));
	}
	assert_eq!((DType::U8 as u8, DType::I64 as u8, DType::Bool as u8), (5, 8, 9));
	assert_eq!(
		DType::decode(&mut &[10u8][..]).map_err(|error| error.to_string()),
		Err("Could not decode `DType`, variant doesn't exist".to_string())
	);
}

#[test]
fn malformed_specs_are_refused() {
	assert_eq!(TensorSpec::new("", DType::F32, vec![]), Err(SpecError::BadName));
	assert_eq!(TensorSpec::new(&"x".repeat(65), DType::F32, vec![]), Err(SpecError::BadName));
	assert_eq!(
		TensorSpec::new("x", DType::F32, vec![Dim::Fixed(1); 9]),
		Err(SpecError::RankTooHigh)
	);
	assert_eq!(Dim::symbolic(""), Err(SpecError::BadSymbol));
	assert_eq!(Dim::symbolic(&"s".repeat(33)), Err(SpecError::BadSymbol));
	let mut raw = spec("x", DType::F32, &[Err("batch")]);
	raw.name = vec![0xff].try_into().unwrap();
	assert_eq!(raw.check(), Err(SpecError::BadName));
	assert_eq!(SpecError::BadName.to_string(), "tensor names must be 1..=64 bytes of UTF-8");
	// Long graph expressions are cut at a character boundary.
	let long = format!("{}é", "n".repeat(31));
	assert_eq!(Dim::symbolic_lossy(&long), Dim::symbolic(&"n".repeat(31)).unwrap());
}

#[test]
fn specs_display_like_a_signature() {
	let ids = spec("input_ids", DType::I64, &[Err("batch"), Ok(128)]);
	assert_eq!(ids.to_string(), "input_ids: i64[batch, 128]");
	assert_eq!(spec("flag", DType::Bool, &[]).to_string(), "flag: bool[]");
}

#[test]
fn registered_specs_must_match_the_model() {
	let model = [
		spec("input_ids", DType::I64, &[Err("batch"), Err("sequence")]),
		spec("attention_mask", DType::I64, &[Err("batch"), Err("sequence")]),
	];
	let outputs = [spec("logits", DType::F32, &[Err("batch"), Ok(2)])];
	// Same tensors; a registration may fix a dim the model leaves open and rename symbols.
	let narrowed = [
		spec("input_ids", DType::I64, &[Ok(1), Err("seq")]),
		spec("attention_mask", DType::I64, &[Ok(1), Err("seq")]),
	];
	assert_eq!(check_specs(SpecSide::Input, &narrowed, &model), Ok(()));

	let mismatch = |side, registered: &[TensorSpec], model: &[TensorSpec]| {
		check_specs(side, registered, model).unwrap_err().to_string()
	};
	assert_eq!(
		mismatch(SpecSide::Input, &model[..1], &model),
		"the metadata registers 1 inputs but the model has 2"
	);
	let swapped = [model[1].clone(), model[0].clone()];
	assert_eq!(
		mismatch(SpecSide::Input, &swapped, &model),
		"input 0 is `input_ids` in the model but `attention_mask` in the metadata"
	);
	let int32 = [spec("logits", DType::I32, &[Err("batch"), Ok(2)])];
	assert_eq!(
		mismatch(SpecSide::Output, &int32, &outputs),
		"output `logits` is f32 in the model but i32 in the metadata"
	);
	let flat = [spec("logits", DType::F32, &[Ok(2)])];
	assert_eq!(
		mismatch(SpecSide::Output, &flat, &outputs),
		"output `logits` has 2 dims in the model but 1 in the metadata"
	);
	let three = [spec("logits", DType::F32, &[Err("batch"), Ok(3)])];
	assert_eq!(
		check_specs(SpecSide::Output, &three, &outputs),
		Err(SpecMismatch::Size {
			side: SpecSide::Output,
			name: "logits".into(),
			axis: 1,
			registered: 3,
			model: 2
		})
	);
}
