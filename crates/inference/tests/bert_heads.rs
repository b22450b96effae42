//! BERT's heads on candle, on checkpoints in the Hub's exact layout with random weights
//! (`citrate-hf-fixtures`): fill-mask from a `BertForMaskedLM` file that stores no decoder (tied
//! to the word embeddings, LayerNorms named `gamma`/`beta`), and text classification from a
//! `BertForSequenceClassification` file; each checked against the head computed by hand from
//! the file's tensors on the bare encoder's hidden state.

use candle_core::{Device, Tensor as CandleTensor, D};
use citrate_hf_fixtures::Family;
use citrate_inference::{
	candle::{bert::BertClassifier, bert::BertEncoder, device},
	pipelines::{
		text::{encode_texts, load_tokenizer},
		Output, Pipeline, PipelineOptions, Request, Task,
	},
	Limits,
};
use std::collections::HashMap;

mod common;

use common::fixture::Fixture as Checkpoint;

impl Checkpoint {
	fn tensors(&self) -> HashMap<String, CandleTensor> {
		candle_core::safetensors::load_buffer(&self.file("model.safetensors"), &Device::Cpu)
			.unwrap()
	}

	/// The bare encoder's last hidden state for `texts`, as `[rows, hidden]` per text.
	fn hidden(&self, texts: &[&str]) -> (CandleTensor, Vec<i64>) {
		let encoder = BertEncoder::load(
			&self.file("model.safetensors"),
			&self.file("config.json"),
			&device(true).unwrap(),
			&Limits::default(),
		)
		.unwrap();
		let tokenizer = load_tokenizer(&self.file("tokenizer.json"), 256).unwrap();
		let inputs = encode_texts(&tokenizer, texts).unwrap();
		let hidden = &encoder.run(&inputs).unwrap()[0];
		let shape: Vec<usize> = hidden.shape.iter().map(|&d| d as usize).collect();
		let hidden = CandleTensor::from_vec(hidden.to_f32().unwrap(), shape, &Device::Cpu).unwrap();
		(hidden, inputs[0].to_i64().unwrap())
	}
}

fn load(checkpoint: &Checkpoint, task: Task) -> citrate_inference::Result<Pipeline> {
	Pipeline::load(task, &checkpoint.files(), &PipelineOptions::default())
}

fn layer_norm(x: &CandleTensor, gamma: &CandleTensor, beta: &CandleTensor) -> CandleTensor {
	let mean = x.mean_keepdim(D::Minus1).unwrap();
	let centred = x.broadcast_sub(&mean).unwrap();
	let variance = centred.sqr().unwrap().mean_keepdim(D::Minus1).unwrap();
	let normed = centred.broadcast_div(&(variance + 1e-12).unwrap().sqrt().unwrap()).unwrap();
	normed.broadcast_mul(gamma).unwrap().broadcast_add(beta).unwrap()
}

fn linear(x: &CandleTensor, tensors: &HashMap<String, CandleTensor>, name: &str) -> CandleTensor {
	let weight = &tensors[&format!("{name}.weight")];
	x.matmul(&weight.t().unwrap())
		.unwrap()
		.broadcast_add(&tensors[&format!("{name}.bias")])
		.unwrap()
}

fn softmax(logits: &[f32]) -> Vec<f32> {
	citrate_inference::pipelines::softmax(logits)
}

#[test]
fn fill_mask_scores_the_tied_decoder_at_each_mask() {
	let checkpoint = Checkpoint::tiny(Family::BertMaskedLm, "fill", 3);
	assert!(!checkpoint.tensors().contains_key("cls.predictions.decoder.weight"));
	let pipeline = load(&checkpoint, Task::FillMask).unwrap();
	let texts = ["the capital of france is [MASK].", "[MASK] and [MASK] went home"];
	let request = Request::Text(texts.map(String::from).to_vec());
	let Output::Labels(rows) = pipeline.run(&request).unwrap() else { panic!("not labels") };
	// One row per mask, texts in order, masks left to right.
	assert_eq!(rows.len(), 3);
	assert!(rows.iter().all(|row| row.len() == 5));

	// By hand: dense → GELU (erf) → LayerNorm (gamma/beta) → word embeddingsᵀ + bias.
	let t = checkpoint.tensors();
	let (hidden, ids) = checkpoint.hidden(&texts);
	let (batch, sequence, width) = hidden.dims3().unwrap();
	let mask_id = 103; // [MASK] in bert-base-uncased's vocabulary
	let masks: Vec<usize> = (0..batch * sequence).filter(|&i| ids[i] == mask_id).collect();
	assert_eq!(masks.len(), 3, "{ids:?}");
	let flat = hidden.reshape((batch * sequence, width)).unwrap();
	for (row, &index) in rows.iter().zip(&masks) {
		let x = flat.narrow(0, index, 1).unwrap();
		let x = linear(&x, &t, "cls.predictions.transform.dense").gelu_erf().unwrap();
		let x = layer_norm(
			&x,
			&t["cls.predictions.transform.LayerNorm.gamma"],
			&t["cls.predictions.transform.LayerNorm.beta"],
		);
		let embeddings = &t["bert.embeddings.word_embeddings.weight"];
		let logits = x
			.matmul(&embeddings.t().unwrap())
			.unwrap()
			.broadcast_add(&t["cls.predictions.bias"])
			.unwrap()
			.flatten_all()
			.unwrap()
			.to_vec1::<f32>()
			.unwrap();
		let expected = softmax(&logits);
		let mut best: Vec<usize> = (0..expected.len()).collect();
		best.sort_by(|&a, &b| expected[b].total_cmp(&expected[a]));
		for (label, &id) in row.iter().zip(&best) {
			assert_eq!(label.id as usize, id);
			assert!(
				(label.score - expected[id]).abs() < 1e-5,
				"{} vs {}",
				label.score,
				expected[id]
			);
		}
	}
	assert!(rows[0].windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn fill_mask_refuses_texts_without_a_mask_and_checkpoints_without_the_head() {
	let checkpoint = Checkpoint::tiny(Family::BertMaskedLm, "refuse", 3);
	let pipeline = load(&checkpoint, Task::FillMask).unwrap();
	let request = Request::Text(vec!["a [MASK] day".into(), "no mask here".into()]);
	assert_eq!(
		pipeline.run(&request).unwrap_err().to_string(),
		"text 2 has no [MASK] token (after truncation to the model's length)"
	);
	let classifier = Checkpoint::tiny(Family::BertSequenceClassification, "refuse-head", 3);
	assert_eq!(
		load(&classifier, Task::FillMask).err().unwrap().to_string(),
		"not a valid model file: model.safetensors: no masked-LM head (`cls.predictions.*`): not a \
		 BertForMaskedLM checkpoint"
	);
	let refused = BertClassifier::load(
		&checkpoint.file("model.safetensors"),
		&checkpoint.file("config.json"),
		&device(true).unwrap(),
		&Limits::default(),
	);
	assert_eq!(
		refused.err().unwrap().to_string(),
		"not a valid model file: model.safetensors: no `classifier.weight` [classes, hidden]: not a \
		 BertForSequenceClassification checkpoint"
	);
}

#[test]
fn sequence_classification_is_the_pooled_first_token_through_the_classifier() {
	let checkpoint = Checkpoint::tiny(Family::BertSequenceClassification, "classify", 3);
	let pipeline = load(&checkpoint, Task::TextClassification).unwrap();
	let texts = ["a wonderful film", "the plot was thin and the acting worse"];
	let Output::Labels(rows) =
		pipeline.run(&Request::Text(texts.map(String::from).to_vec())).unwrap()
	else {
		panic!("not labels")
	};
	let t = checkpoint.tensors();
	let (hidden, _) = checkpoint.hidden(&texts);
	let first = hidden.narrow(1, 0, 1).unwrap().squeeze(1).unwrap();
	let pooled = linear(&first, &t, "bert.pooler.dense").tanh().unwrap();
	let logits = linear(&pooled, &t, "classifier").to_vec2::<f32>().unwrap();
	for (row, logits) in rows.iter().zip(&logits) {
		let expected = softmax(logits);
		let names: Vec<&str> = row.iter().map(|l| l.name.as_str()).collect();
		assert!(names == ["NEGATIVE", "POSITIVE"] || names == ["POSITIVE", "NEGATIVE"]);
		for label in row {
			assert!((label.score - expected[label.id as usize]).abs() < 1e-5);
		}
		assert!(row[0].score >= row[1].score);
	}
}
