//! The chain↔engine contract: the output hash against an independent BLAKE2b, quantisation
//! against `f32::round`, the cost schedule, and every request refusal with its exact message.

use citrate_inference_primitives::{
	cost::{Estimate, Schedule},
	output::{output_hash, quantize_outputs, Quantization},
	request::{check_raw_request, check_request, schema, RequestError, Scalar, MAX_TEXTS},
	tensor::{DType, Dim, Tensor, TensorSpec},
	InferenceTask as Task,
};

fn hex(bytes: [u8; 32]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_output_hash_is_blake2b_256_of_the_canonical_encoding() {
	// Expected values from Python's hashlib.blake2b(payload, digest_size=32), with the
	// payload written out by hand from the codec layout.
	let logits = Tensor::from_f32("logits", vec![1, 2], &[0.25, -1.5]).unwrap();
	assert_eq!(
		hex(output_hash(&[logits]).unwrap()),
		"95ad2b368f5d86ca255dec7e367931eaf264d23df5f4f45fee16887ad95778a6"
	);
	assert_eq!(
		hex(output_hash(&[]).unwrap()),
		"baf56d147c3ec1c2d0d219b752291a6fe272ae283621d11b9a3a1806765fba60"
	);
}

#[test]
fn quantisation_rounds_like_f32_round_on_a_power_of_two_grid() {
	let grid = Quantization::new(10).unwrap();
	assert_eq!(grid.step(), 1.0 / 1024.0);
	assert_eq!(Quantization::new(25), None);
	// A deterministic spread of values, with exact ties and values next to them.
	let mut state = 0x2545_f491_4f6c_dd1du64;
	let mut values = vec![0.5 / 1024.0, -0.5 / 1024.0, 1.5 / 1024.0, 0.49999997, 1e30, -3e-40];
	for _ in 0..100_000 {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		let bits = (state >> 32) as u32;
		values.push(f32::from_bits(bits));
	}
	for fraction_bits in [0, 8, 10, 24] {
		let grid = Quantization::new(fraction_bits).unwrap();
		let scale = (1u32 << fraction_bits) as f32;
		for &v in &values {
			let expected = if v.is_nan() {
				f32::NAN
			} else {
				let q = (v * scale).round() / scale;
				if q == 0.0 {
					0.0
				} else {
					q
				}
			};
			assert_eq!(
				grid.quantize(v).to_bits(),
				expected.to_bits(),
				"{v:e} at 2^-{fraction_bits}"
			);
		}
	}
	// One canonical NaN, no negative zero, infinities stay.
	let nan_payload = f32::from_bits(0x7fc0_0001);
	assert_eq!(grid.quantize(nan_payload).to_bits(), f32::NAN.to_bits());
	assert_eq!(grid.quantize(-0.0001).to_bits(), 0);
	assert_eq!(grid.quantize(f32::NEG_INFINITY), f32::NEG_INFINITY);

	let outputs = vec![
		Tensor::from_f32("p", vec![3], &[0.12345, -0.0001, 0.9996]).unwrap(),
		Tensor::new("ids", DType::I64, vec![1], 7i64.to_le_bytes().to_vec()).unwrap(),
	];
	let quantized = quantize_outputs(&outputs, grid);
	assert_eq!(quantized[0].to_f32().unwrap(), [126.0 / 1024.0, 0.0, 1.0]);
	assert_eq!(quantized[1], outputs[1]);
}

#[test]
fn the_schedule_prices_flops_and_bytes_and_saturates() {
	let schedule = Schedule::default();
	let estimate = Estimate { flops: 1_000_000, weight_bytes: 1000, peak_activation_bytes: 24 };
	assert_eq!(estimate.peak_memory_bytes(), 1024);
	assert_eq!(schedule.ref_time_ps(&estimate), 100_000_000 + 50_000_000 + 102_400);
	let huge = Estimate { flops: u128::MAX, ..estimate };
	assert_eq!(schedule.ref_time_ps(&huge), u64::MAX);
}

fn bytes(name: &str, data: &[u8]) -> Tensor {
	Tensor::new(name, DType::U8, vec![data.len() as u32], data.to_vec()).unwrap()
}

fn scalar_i64(name: &str, value: i64) -> Tensor {
	Tensor::new(name, DType::I64, vec![], value.to_le_bytes().to_vec()).unwrap()
}

fn refusal(task: Task, tensors: &[Tensor]) -> String {
	check_request(task, tensors).unwrap_err().to_string()
}

#[test]
fn requests_follow_their_task_schema() {
	assert_eq!(check_request(Task::FeatureExtraction, &[bytes("text", b"hi")]), Ok(()));
	let rows = Tensor::new("text", DType::U8, vec![2, 2], b"abcd".to_vec()).unwrap();
	assert_eq!(check_request(Task::TextClassification, &[rows]), Ok(()));
	assert_eq!(check_request(Task::Ocr, &[bytes("image", b"\x89PNG")]), Ok(()));
	let samples = Tensor::from_f32("samples", vec![2], &[0.0, 0.1]).unwrap();
	assert_eq!(check_request(Task::VoiceActivity, std::slice::from_ref(&samples)), Ok(()));
	let prompt = [
		bytes("prompt", b"Hi"),
		scalar_i64("max_tokens", 512),
		Tensor::from_f32("temperature", vec![1], &[0.7]).unwrap(),
		Tensor::from_f32("top_p", vec![], &[1.0]).unwrap(),
		scalar_i64("seed", i64::MAX),
	];
	assert_eq!(check_request(Task::TextGeneration, &prompt), Ok(()));
	assert_eq!(Scalar::of(&prompt[4]).and_then(Scalar::as_i64), Some(i64::MAX));
	assert_eq!(schema(Task::RawTensors), None);
	assert_eq!(schema(Task::TextGeneration).unwrap().fields.len(), 5);
}

#[test]
fn malformed_requests_get_a_clear_error() {
	assert_eq!(
		refusal(Task::Ocr, &[bytes("imgae", b"x")]),
		"ocr requests take `image`, not `imgae`"
	);
	assert_eq!(check_request(Task::ImageClassification, &[]), Err(RequestError::Missing("image")));
	assert_eq!(refusal(Task::ImageClassification, &[]), "the request has no `image`");
	let samples = Tensor::from_f32("samples", vec![1], &[0.0]).unwrap();
	assert_eq!(
		refusal(Task::SpeechToText, &[bytes("audio", b"RIFF"), samples]),
		"send exactly one of `audio`, `samples`"
	);
	assert_eq!(refusal(Task::SpeechToText, &[]), "send exactly one of `audio`, `samples`");
	let image_as_rows = Tensor::new("image", DType::U8, vec![1, 1], vec![0]).unwrap();
	assert_eq!(refusal(Task::Ocr, &[image_as_rows]), "`image` must be u8 [bytes], not u8 [1, 1]");
	let ids = Tensor::new("text", DType::I64, vec![1], vec![0; 8]).unwrap();
	assert_eq!(
		refusal(Task::FeatureExtraction, &[ids]),
		"`text` must be u8 [bytes] or u8 [texts, width], not i64 [1]"
	);
	// A batch of empty texts costs nothing to send, so its length is capped too.
	let empty = Tensor::new("text", DType::U8, vec![MAX_TEXTS + 1, 0], vec![]).unwrap();
	assert_eq!(
		refusal(Task::FeatureExtraction, &[empty]),
		"257 texts; send at most 256 per request"
	);
	let prompt = bytes("prompt", b"Hi");
	for (param, message) in [
		(scalar_i64("max_tokens", 513), "`max_tokens` must be 1..=512"),
		(scalar_i64("max_tokens", 0), "`max_tokens` must be 1..=512"),
		(
			Tensor::from_f32("temperature", vec![], &[f32::NAN]).unwrap(),
			"`temperature` must be finite and ≥ 0",
		),
		(Tensor::from_f32("top_p", vec![], &[0.0]).unwrap(), "`top_p` must be in (0, 1]"),
		(Tensor::from_f32("seed", vec![], &[1.0]).unwrap(), "`seed` must be one i64, not f32 []"),
		(
			Tensor::new("max_tokens", DType::I32, vec![2], vec![0; 8]).unwrap(),
			"`max_tokens` must be one i32 or i64, not i32 [2]",
		),
	] {
		assert_eq!(refusal(Task::TextGeneration, &[prompt.clone(), param]), message);
	}
}

#[test]
fn speech_requests_may_name_a_language_and_a_task() {
	let audio = bytes("audio", b"RIFF");
	let options = [audio.clone(), bytes("language", b"fr"), bytes("task", b"translate")];
	assert_eq!(check_request(Task::SpeechToText, &options), Ok(()));
	assert_eq!(
		check_request(Task::SpeechToText, &[audio.clone(), bytes("language", b"haw")]),
		Ok(())
	);
	for (option, message) in [
		(bytes("task", b"summarize"), "`task` must be `transcribe` or `translate`"),
		(
			bytes("language", b"f r"),
			"`language` must be a language code such as `en` (1 to 16 ASCII letters or `-`)",
		),
		(
			bytes("language", b""),
			"`language` must be a language code such as `en` (1 to 16 ASCII letters or `-`)",
		),
	] {
		assert_eq!(refusal(Task::SpeechToText, &[audio.clone(), option]), message);
	}
	// Voice activity has no language.
	assert_eq!(
		refusal(Task::VoiceActivity, &[audio, bytes("language", b"en")]),
		"voice-activity requests take `audio`, `samples`, not `language`"
	);
}

#[test]
fn raw_requests_match_the_registered_inputs() {
	let inputs = [
		TensorSpec::new("x", DType::F32, vec![Dim::symbolic("batch").unwrap(), Dim::Fixed(4)])
			.unwrap(),
		TensorSpec::new("mask", DType::Bool, vec![]).unwrap(),
	];
	let x = Tensor::from_f32("x", vec![2, 4], &[0.0; 8]).unwrap();
	let mask = Tensor::new("mask", DType::Bool, vec![], vec![1]).unwrap();
	assert_eq!(check_raw_request(&inputs, &[mask.clone(), x.clone()]), Ok(()));
	assert_eq!(check_request(Task::RawTensors, std::slice::from_ref(&x)), Ok(()));
	let message = |tensors: &[Tensor]| check_raw_request(&inputs, tensors).unwrap_err().to_string();
	assert_eq!(message(std::slice::from_ref(&x)), "the model's input `mask` is missing");
	assert_eq!(message(&[x.clone(), mask.clone(), bytes("y", b"")]), "the model has no input `y`");
	let wide = Tensor::from_f32("x", vec![2, 5], &[0.0; 10]).unwrap();
	assert_eq!(
		message(&[wide, mask.clone()]),
		"input `x` must be x: f32[batch, 4], not f32 [2, 5]"
	);
	let ints = Tensor::new("x", DType::I32, vec![1, 4], vec![0; 16]).unwrap();
	assert_eq!(message(&[ints, mask]), "input `x` must be x: f32[batch, 4], not i32 [1, 4]");
}

#[test]
fn zero_shot_requests_send_an_image_with_labels_or_one_thing_to_embed() {
	let image = bytes("image", b"\x89PNG");
	let labels = Tensor::new("labels", DType::U8, vec![2, 3], b"catdog".to_vec()).unwrap();
	let task = Task::ZeroShotImageClassification;
	assert_eq!(check_request(task, &[image.clone(), labels.clone()]), Ok(()));
	assert_eq!(check_request(task, std::slice::from_ref(&image)), Ok(()));
	assert_eq!(check_request(task, &[bytes("text", b"a cat")]), Ok(()));
	let template = bytes("template", b"a photo of a {}");
	assert_eq!(check_request(task, &[image.clone(), labels.clone(), template.clone()]), Ok(()));
	for (tensors, message) in [
		(vec![labels.clone()], "send exactly one of `image`, `text`"),
		(vec![bytes("text", b"a cat"), labels.clone()], "`labels` is only read with `image`"),
		(vec![image.clone(), template.clone()], "`template` is only read with `labels`"),
		(vec![image.clone(), bytes("text", b"x")], "send exactly one of `image`, `text`"),
		(vec![], "send exactly one of `image`, `text`"),
		(
			vec![image.clone(), labels.clone(), bytes("template", b"no slot")],
			"`template` must be UTF-8 of at most 256 bytes with one `{}` where the label goes",
		),
		(
			vec![image, labels, bytes("template", b"{} or {}")],
			"`template` must be UTF-8 of at most 256 bytes with one `{}` where the label goes",
		),
	] {
		assert_eq!(refusal(task, &tensors), message);
	}
	// Fill-mask takes texts; text-to-text takes a prompt with generation parameters.
	assert_eq!(check_request(Task::FillMask, &[bytes("text", b"a [MASK] day")]), Ok(()));
	assert_eq!(
		refusal(Task::Text2TextGeneration, &[bytes("prompt", b"x"), scalar_i64("max_tokens", 0)]),
		"`max_tokens` must be 1..=512"
	);
}
