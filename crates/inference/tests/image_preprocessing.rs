//! Image preprocessing as the model describes it (`preprocessor_config.json`, ONNX metadata),
//! never assumed, and refused at load where it cannot be determined. The models, written by
//! `tests/assets/make_image_cases.py`, return the mean of each input channel, so the scores
//! show exactly what preprocessing fed them.

use citrate_inference::{
	codec::DType,
	onnx::PlanKind,
	pipelines::{
		image::{ImageClassifier, ImagePlan},
		preprocess::{ChannelOrder, ImagePreprocessing, Layout, Resample, Resize},
		softmax, ModelFiles, Output, Pipeline, PipelineOptions, Request, Task,
	},
	Error,
};
use image::{ImageFormat, Rgb, RgbImage};

fn asset(name: &str) -> Vec<u8> {
	std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets").join(name))
		.unwrap()
}

const LABELS: &str = r#"{"id2label": {"0": "first", "1": "second", "2": "third"}}"#;

fn files(model: &str, preprocessor_config: Option<&str>) -> ModelFiles {
	let mut files = ModelFiles::new();
	files.insert("model.onnx", asset(model));
	files.insert("config.json", LABELS.as_bytes().to_vec());
	if let Some(config) = preprocessor_config {
		files.insert("preprocessor_config.json", config.as_bytes().to_vec());
	}
	files
}

fn classifier(model: &str, preprocessor_config: Option<&str>) -> Result<ImageClassifier, Error> {
	let files = files(model, preprocessor_config);
	ImageClassifier::load(
		files.get("model.onnx").unwrap(),
		"model.onnx",
		&files,
		vec!["first".into(), "second".into(), "third".into()],
		&Default::default(),
		None,
	)
}

fn load_error(model: &str, preprocessor_config: Option<&str>) -> String {
	classifier(model, preprocessor_config).err().expect("refused").to_string()
}

fn png(image: &RgbImage) -> Vec<u8> {
	let mut bytes = std::io::Cursor::new(vec![]);
	image.write_to(&mut bytes, ImageFormat::Png).unwrap();
	bytes.into_inner()
}

/// A 10×6 image of one colour.
fn solid(rgb: [u8; 3]) -> Vec<u8> {
	png(&RgbImage::from_pixel(10, 6, Rgb(rgb)))
}

/// Scores by class id.
fn scores(output: Output) -> Vec<f32> {
	let Output::Labels(rows) = output else { panic!("labels") };
	let mut scores = vec![0.0; 3];
	for label in &rows[0] {
		scores[label.id as usize] = label.score;
	}
	scores
}

fn assert_close(actual: &[f32], expected: &[f32]) {
	let close = actual.iter().zip(expected).all(|(a, e)| (a - e).abs() < 1e-5);
	assert!(close && actual.len() == expected.len(), "{actual:?} vs {expected:?}");
}

#[test]
fn hugging_face_config_sets_size_resampling_and_normalisation() {
	let config = r#"{"size": {"height": 4, "width": 5}, "resample": 3,
		"image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25]}"#;
	let classifier = classifier("channel-means-nchw.onnx", Some(config)).unwrap();
	let expected = ImagePreprocessing {
		resize: Resize::Exact { height: 4, width: 5 },
		resample: Resample::Bicubic,
		..ImagePreprocessing::square(4, [0.5; 3], [0.25; 3])
	};
	assert_eq!(classifier.preprocessing(), &expected);
	assert_eq!(classifier.preprocessing().input_shape(), [1, 3, 4, 5]);
	// Its height and width are symbolic; it is planned at load for 4×5 (per-shape plans are
	// parsed relaxed).
	assert_eq!(classifier.plan(), &ImagePlan::Specialized(PlanKind::RelaxedOptimized));

	let normalised = |v: f32| (v / 255.0 - 0.5) / 0.25;
	let expected = softmax(&[normalised(200.0), normalised(100.0), normalised(50.0)]);
	assert_close(&scores(classifier.classify(&solid([200, 100, 50]), 3).unwrap()), &expected);
}

#[test]
fn efficientnet_rescale_offset_maps_pixels_to_plus_minus_one() {
	// Hugging Face's EfficientNet processor: `pixel / 127.5 - 1`, no normalisation.
	let config = r#"{"size": 4, "rescale_factor": 0.00784313725490196, "rescale_offset": true,
		"do_normalize": false}"#;
	let classifier = classifier("channel-means-nchw.onnx", Some(config)).unwrap();
	let logits = [255.0 / 127.5 - 1.0, 0.0 / 127.5 - 1.0, 51.0 / 127.5 - 1.0];
	assert_close(&scores(classifier.classify(&solid([255, 0, 51]), 3).unwrap()), &softmax(&logits));
}

#[test]
fn caffe_style_bgr_channels_last_from_the_onnx_metadata() {
	// The model's metadata: BGR, no rescaling, VGG means in pixel units; NHWC from its shape.
	let classifier = classifier("channel-means-nhwc-bgr.onnx", None).unwrap();
	let preprocessing = classifier.preprocessing();
	assert_eq!(
		(preprocessing.layout, preprocessing.channel_order, preprocessing.scale),
		(Layout::Nhwc, ChannelOrder::Bgr, 1.0)
	);
	assert_eq!(preprocessing.input_shape(), [1, 8, 8, 3]);
	let logits = [50.0 - 103.939, 100.0 - 116.779, 200.0 - 123.68];
	let output = classifier.classify(&solid([200, 100, 50]), 3).unwrap();
	assert_close(&scores(output), &softmax(&logits));

	// preprocessor_config.json overrides the metadata key by key.
	let classifier =
		classifier_with("channel-means-nhwc-bgr.onnx", r#"{"channel_order": "rgb"}"#).unwrap();
	let logits = [200.0 - 103.939, 100.0 - 116.779, 50.0 - 123.68];
	let output = classifier.classify(&solid([200, 100, 50]), 3).unwrap();
	assert_close(&scores(output), &softmax(&logits));
}

fn classifier_with(model: &str, config: &str) -> Result<ImageClassifier, Error> {
	classifier(model, Some(config))
}

#[test]
fn a_u8_input_takes_the_pixels() {
	let classifier = classifier("channel-means-u8.onnx", None).unwrap();
	assert_eq!(classifier.preprocessing().dtype, DType::U8);
	let output = classifier.classify(&solid([3, 2, 1]), 3).unwrap();
	assert_close(&scores(output), &softmax(&[3.0, 2.0, 1.0]));
	assert_eq!(
		load_error("channel-means-u8.onnx", Some(r#"{"image_mean": 0.5, "image_std": 0.5}"#)),
		"not a valid model file: preprocessor_config.json: `image_mean` cannot apply: input \
		 `image` is u8 and takes pixels as they are"
	);
}

#[test]
fn shortest_edge_then_centre_crop_as_hugging_face_does() {
	// 8 wide, 4 high: red but for the two rightmost columns, which are blue.
	let image =
		RgbImage::from_fn(8, 4, |x, _| if x < 6 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) });
	let channel_means = |config: &str| {
		let classifier = classifier("channel-means-nchw.onnx", Some(config)).unwrap();
		let tensor = classifier.preprocessing().tensor(&image, "pixel_values").unwrap();
		let values = tensor.to_f32().unwrap();
		let plane = values.len() / 3;
		let means: Vec<f32> =
			values.chunks(plane).map(|c| c.iter().sum::<f32>() / plane as f32).collect();
		(tensor.shape, means)
	};
	let plain = r#", "do_normalize": false, "do_rescale": false, "resample": 0}"#;
	// CLIP: the short side to 4 (no change), then the centre 4×4: columns 2–5, all red.
	let (shape, means) = channel_means(&format!(
		r#"{{"size": {{"shortest_edge": 4}}, "do_center_crop": true, "crop_size": 4{plain}"#
	));
	assert_eq!((shape, means), (vec![1, 3, 4, 4], vec![255.0, 0.0, 0.0]));
	// A square resize keeps the blue quarter.
	let (_, means) = channel_means(&format!(r#"{{"size": 4{plain}"#));
	assert_eq!(means, [191.25, 0.0, 63.75]);
	// ConvNeXt / ResNet: a number size with crop_pct is the crop; the short side first goes to
	// 2 / 0.5 = 4, so the crop is the centre 2×2: red.
	let (shape, means) = channel_means(&format!(r#"{{"size": 2, "crop_pct": 0.5{plain}"#));
	assert_eq!((shape, means), (vec![1, 3, 2, 2], vec![255.0, 0.0, 0.0]));
}

#[test]
fn what_cannot_be_determined_is_refused_at_load_naming_the_field() {
	let cases = [
		(
			"channel-means-square.onnx",
			None,
			"preprocessor_config.json: `data_format` is needed: the layout of input `x` [\"1\", \
			 \"3\", \"3\", \"3\"] cannot be told from its shape; set it to channels_first (NCHW) \
			 or channels_last (NHWC)",
		),
		(
			"channel-means-square.onnx",
			Some(r#"{"data_format": "planar"}"#),
			"preprocessor_config.json: `data_format` must be channels_first (NCHW) or \
			 channels_last (NHWC), not \"planar\"",
		),
		(
			"channel-means-nchw.onnx",
			Some(r#"{"image_mean": [0.5, 0.5, 0.5]}"#),
			"preprocessor_config.json: `size` is missing, and input `pixel_values` does not fix \
			 its height and width; give the size images are resized to",
		),
		(
			"channel-means-nhwc-bgr.onnx",
			Some(r#"{"size": 4}"#),
			"preprocessor_config.json: `size` gives 4×4 images, but input `input_1` takes 8×8",
		),
		(
			"channel-means-nchw.onnx",
			Some(r#"{"size": {"shortest_edge": 4}}"#),
			"preprocessor_config.json: `size` is a shortest edge without a centre crop, which \
			 gives every image its own shape; give crop_size (and do_center_crop) or size as \
			 {\"height\", \"width\"}",
		),
		(
			"channel-means-nchw.onnx",
			Some(r#"{"size": 4, "do_center_crop": true}"#),
			"preprocessor_config.json: `crop_size` is missing, and do_center_crop is true",
		),
		(
			"channel-means-nchw.onnx",
			Some(r#"{"size": 4, "resample": 4}"#),
			"preprocessor_config.json: `resample` must be 0 (nearest), 1 (Lanczos), 2 (bilinear) \
			 or 3 (bicubic); box and Hamming are not supported",
		),
		(
			"channel-means-nchw.onnx",
			Some(r#"{"size": 4, "image_mean": [0.5, 0.5, 0.5]}"#),
			"preprocessor_config.json: `image_std` is missing; give it with image_mean",
		),
		(
			"channel-means-nchw.onnx",
			Some(r#"{"size": 4, "image_mean": [0.5, 0.5], "image_std": 1}"#),
			"preprocessor_config.json: `image_mean` must be three numbers (one per channel) or one",
		),
		(
			"channel-means-nchw.onnx",
			Some(r#"{"size": 4, "do_resize": false}"#),
			"preprocessor_config.json: `do_resize` is false, but requests are images of any size; \
			 give the `size` they are resized to",
		),
		(
			"echo-encoder.onnx",
			None,
			"model.onnx: an image classifier takes one input (the image); this one takes \
			 [`input_ids`, `attention_mask`]",
		),
	];
	for (model, config, expected) in cases {
		let error = load_error(model, config);
		assert_eq!(error, format!("not a valid model file: {expected}"), "{model} {config:?}");
	}
}

#[test]
fn the_pipeline_loads_image_classifiers_with_their_preprocessing() {
	let files = files("channel-means-nhwc-bgr.onnx", None);
	let pipeline =
		Pipeline::load(Task::ImageClassification, &files, &PipelineOptions::default()).unwrap();
	let Output::Labels(rows) = pipeline.run(&Request::Image(solid([200, 100, 50]))).unwrap() else {
		panic!("labels")
	};
	// BGR: blue's mean (50 − 103.9) is class 0, red's (200 − 123.7) class 2, the best.
	assert_eq!(
		rows[0].iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
		["third", "second", "first"]
	);
}
