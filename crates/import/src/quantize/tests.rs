//! The quantizer's arithmetic and its rewrite of ONNX files, run on tract.

use super::{wire::put_varint, *};

/// |w − q·scale| ≤ scale/2, up to the rounding of the float operations themselves.
fn assert_round_trip(values: &[f32], shape: &[usize], axis: Option<usize>) -> Vec<f32> {
	let (q, scales) = quantize_values(values, shape, axis).unwrap();
	let inner: usize = axis.map_or(values.len(), |a| shape[a + 1..].iter().product());
	let channels = scales.len();
	for (i, (&w, &q)) in values.iter().zip(&q).enumerate() {
		let scale = scales[(i / inner) % channels];
		let error = (f64::from(w) - f64::from(q) * f64::from(scale)).abs();
		let bound = f64::from(scale) / 2.0 * (1.0 + 1e-6);
		assert!(error <= bound, "value {i}: {w} → {q}·{scale}, error {error} > {bound}");
		assert!((-127..=127).contains(&q));
	}
	scales
}

#[test]
fn per_channel_scales_follow_the_axis() {
	// A 3×4 MatMul weight, channels along axis 1 (columns).
	let values: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) * 0.37).collect();
	let scales = assert_round_trip(&values, &[3, 4], Some(1));
	assert_eq!(scales.len(), 4);
	for (c, scale) in scales.iter().enumerate() {
		let max = (0..3).map(|r| values[r * 4 + c].abs()).fold(0f32, f32::max);
		assert_eq!(*scale, max / 127.0);
	}
	// Axis 0 of a conv kernel [2, 3, 2, 2].
	let kernel: Vec<f32> = (0..24).map(|i| ((i * 7919) % 23) as f32 / 9.0 - 1.2).collect();
	let scales = assert_round_trip(&kernel, &[2, 3, 2, 2], Some(0));
	assert_eq!(scales.len(), 2);
	assert_eq!(scales[0], kernel[..12].iter().map(|v| v.abs()).fold(0f32, f32::max) / 127.0);
	// The channel's extreme is exactly ±127.
	let (q, _) = quantize_values(&kernel, &[2, 3, 2, 2], Some(0)).unwrap();
	assert!(q[..12].iter().any(|&q| q.abs() == 127));
	// Per tensor: one scale.
	assert_eq!(assert_round_trip(&kernel, &[2, 3, 2, 2], None).len(), 1);
}

#[test]
fn random_weights_round_trip_within_half_a_step() {
	let mut state = 0x2545_f491_4f6c_dd1du64;
	let values: Vec<f32> = (0..64 * 48)
		.map(|_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			// Channels of very different ranges.
			((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 10f32.powi((state % 7) as i32 - 3)
		})
		.collect();
	assert_round_trip(&values, &[64, 48], Some(1));
	assert_round_trip(&values, &[64, 48], Some(0));
	assert_round_trip(&values, &[64, 48], None);
}

#[test]
fn zero_channels_get_a_unit_scale_and_zeros() {
	let mut values = vec![0f32; 12];
	values[1] = 0.5;
	values[5] = -0.25;
	// Columns 0, 2 and 3 are all zeros.
	let (q, scales) = quantize_values(&values, &[3, 4], Some(1)).unwrap();
	assert_eq!(scales, [1.0, 0.5 / 127.0, 1.0, 1.0]);
	assert_eq!(q, [0, 127, 0, 0, 0, -64, 0, 0, 0, 0, 0, 0]);
	let (q, scales) = quantize_values(&[0.0; 8], &[2, 4], None).unwrap();
	assert_eq!((q, scales), (vec![0; 8], vec![1.0]));
	// A scale that would underflow is 1 too: the values are zeros at int8 precision.
	let (q, scales) = quantize_values(&[1e-45, -1e-45], &[1, 2], Some(0)).unwrap();
	assert_eq!((q, scales), (vec![0, 0], vec![1.0]));
}

#[test]
fn nan_and_infinite_weights_are_refused() {
	for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
		let error = quantize_values(&[1.0, bad, 2.0, 3.0], &[2, 2], Some(1)).unwrap_err();
		assert_eq!(error, format!("holds {bad}, which int8 cannot represent"));
	}
	assert_eq!(
		quantize_values(&[1.0; 3], &[2, 2], Some(1)).unwrap_err(),
		"3 values for shape [2, 2]"
	);
}

use citrate_inference::onnx::{LoadOptions, OnnxModel};
use citrate_tensor_primitives::Tensor;
use prost::Message;

const MODEL_OPSET_IMPORT: u32 = 8;

fn weights(n: usize, seed: u64) -> Vec<f32> {
	let mut state = seed;
	(0..n)
		.map(|_| {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			(state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
		})
		.collect()
}

fn initializer(name: &str, dims: &[i64], values: &[f32]) -> pb::TensorProto {
	pb::TensorProto {
		name: name.into(),
		dims: dims.to_vec(),
		data_type: pb::tensor_proto::DataType::Float as i32,
		raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
		..Default::default()
	}
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Option<(&str, i64)>) -> pb::NodeProto {
	pb::NodeProto {
		input: inputs.iter().map(|s| s.to_string()).collect(),
		output: vec![output.into()],
		name: format!("{op}_{output}"),
		op_type: op.into(),
		attribute: attribute
			.map(|(name, i)| pb::AttributeProto {
				name: name.into(),
				r#type: pb::attribute_proto::AttributeType::Int as i32,
				i,
				..Default::default()
			})
			.into_iter()
			.collect(),
		..Default::default()
	}
}

fn float_input(name: &str, dims: &[i64]) -> pb::ValueInfoProto {
	value_info(&pb::TensorProto {
		name: name.into(),
		dims: dims.to_vec(),
		data_type: 1,
		..Default::default()
	})
}

/// x [1, 64] → MatMul W1 [64, 32] → h; Gemm(h, W2 [48, 32], transB) + bias → y;
/// MatMul(h, S [32, 48]) → z with S also read by an Identity (not a weight only); MatMul(h,
/// W3 [32, 16]) → w with W3 too small. Optionally a Softmax of y, initializers listed as
/// inputs (IR 3), and fields no schema knows in the model and the first MatMul node.
fn model(opset: i64, softmax: bool, ir3: bool) -> Vec<u8> {
	let initializers = vec![
		initializer("W1", &[64, 32], &weights(64 * 32, 1)),
		initializer("W2", &[48, 32], &weights(48 * 32, 2)),
		initializer("bias", &[48], &weights(48, 3)),
		initializer("S", &[32, 48], &weights(32 * 48, 4)),
		initializer("W3", &[32, 16], &weights(32 * 16, 5)),
	];
	let mut nodes = vec![
		node("MatMul", &["x", "W1"], "h", None),
		node("Gemm", &["h", "W2", "bias"], "g", Some(("transB", 1))),
		node("MatMul", &["h", "S"], "z", None),
		node("Identity", &["S"], "s_copy", None),
		node("MatMul", &["h", "W3"], "w", None),
	];
	let mut outputs = vec!["z", "s_copy", "w"];
	if softmax {
		nodes.push(node("Softmax", &["g"], "y", Some(("axis", 1))));
	} else {
		nodes.push(node("Identity", &["g"], "y", None));
	}
	outputs.push("y");
	let mut inputs = vec![float_input("x", &[1, 64])];
	if ir3 {
		inputs.extend(initializers.iter().map(value_info));
	}
	let mut graph = vec![];
	for (i, node) in nodes.iter().enumerate() {
		let mut bytes = node.encode_to_vec();
		if i == 0 {
			put_len(&mut bytes, 9, b"node metadata");
		}
		put_len(&mut graph, GRAPH_NODE, &bytes);
	}
	put_len(&mut graph, 2, b"test");
	for tensor in &initializers {
		put_len(&mut graph, GRAPH_INITIALIZER, &tensor.encode_to_vec());
	}
	for input in &inputs {
		put_len(&mut graph, GRAPH_INPUT, &input.encode_to_vec());
	}
	for output in outputs {
		put_len(
			&mut graph,
			12,
			&pb::ValueInfoProto { name: output.into(), ..Default::default() }.encode_to_vec(),
		);
	}
	let mut model = vec![];
	put_varint(&mut model, 1 << 3);
	put_varint(&mut model, if ir3 { 3 } else { 7 });
	put_len(
		&mut model,
		MODEL_OPSET_IMPORT,
		&pb::OperatorSetIdProto { domain: String::new(), version: opset }.encode_to_vec(),
	);
	put_len(
		&mut model,
		MODEL_OPSET_IMPORT,
		&pb::OperatorSetIdProto { domain: "com.example".into(), version: 1 }.encode_to_vec(),
	);
	put_len(&mut model, MODEL_GRAPH, &graph);
	put_len(&mut model, 100, b"a field no schema knows");
	model
}

/// Outputs by name for a seeded input.
fn run(bytes: &[u8]) -> BTreeMap<String, Vec<f32>> {
	let model = OnnxModel::load(bytes, &LoadOptions::default()).unwrap();
	let x = Tensor::from_f32("x", vec![1, 64], &weights(64, 9)).unwrap();
	model.run(&[x]).unwrap().into_iter().map(|t| (t.name.clone(), t.to_f32().unwrap())).collect()
}

fn quantized(bytes: &[u8]) -> (pb::ModelProto, Report, Vec<u8>) {
	let (out, report) = quantize_onnx(bytes).unwrap();
	(pb::ModelProto::decode(&out[..]).unwrap(), report, out)
}

#[test]
fn matmul_and_gemm_weights_become_int8_with_per_channel_scales() {
	let original = model(13, true, false);
	let (proto, report, bytes) = quantized(&original);
	assert_eq!(
		(report.tensors, report.elements, report.dequantization, report.opset),
		(2, 64 * 32 + 48 * 32, Dequantization::DequantizeLinear, 13)
	);
	assert_eq!(report.bytes_after, bytes.len() as u64);
	let graph = proto.graph.as_ref().unwrap();
	let names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
	assert_eq!(
		names,
		[
			"W1_quantized",
			"W1_scale",
			"W1_zero_point",
			"W2_quantized",
			"W2_scale",
			"W2_zero_point",
			"bias",
			"S",
			"W3"
		]
	);
	// MatMul's channels are W1's columns; Gemm with transB reads W2 transposed: its rows.
	assert_eq!(graph.initializer[1].dims, [32]);
	assert_eq!(graph.initializer[4].dims, [48]);
	assert_eq!(graph.initializer[0].data_type, pb::tensor_proto::DataType::Int8 as i32);
	assert_eq!(graph.initializer[2].raw_data, vec![0; 32]);
	let dq: Vec<(&str, i64)> =
		graph.node[..2].iter().map(|n| (n.op_type.as_str(), n.attribute[0].i)).collect();
	assert_eq!(dq, [("DequantizeLinear", 1), ("DequantizeLinear", 0)]);
	assert_eq!(graph.node[2].input, ["x", "W1_dequantized"]);
	assert_eq!(graph.node[3].input, ["h", "W2_dequantized", "bias"]);
	assert_eq!(graph.node[4].input, ["h", "S"], "S is read by an Identity too");
	assert_eq!(graph.node[6].input, ["h", "W3"], "W3 is under 1024 elements");
	// Fields no schema knows survive, in the model and in a rewritten node.
	assert!(bytes.ends_with(b"a field no schema knows"));
	let graph_bytes = sub_message(&bytes, MODEL_GRAPH).unwrap();
	let matmul =
		fields(graph_bytes).unwrap().into_iter().filter(|f| f.number == GRAPH_NODE).nth(2).unwrap();
	assert!(fields(matmul.payload)
		.unwrap()
		.iter()
		.any(|f| f.number == 9 && f.payload == b"node metadata"));
	assert!(bytes.len() < original.len());

	// The engine runs it: what reads no quantized weight is bit-identical, the rest close.
	let (before, after) = (run(&original), run(&bytes));
	assert_eq!(before["s_copy"], after["s_copy"]);
	for output in ["y", "z", "w"] {
		let cosine = crate::agreement::cosine(&before[output], &after[output]);
		assert!(cosine > 0.999 && before[output] != after[output], "{output}: {cosine}");
	}

	// Deterministic, and a quantized model has nothing left to quantize.
	assert_eq!(quantize_onnx(&original).unwrap().0, bytes);
	let (again, report) = quantize_onnx(&bytes).unwrap();
	assert_eq!((again, report.tensors), (bytes, 0));
}

#[test]
fn older_opsets_keep_their_version_and_dequantize_with_cast_and_mul() {
	let original = model(11, true, false);
	let (proto, report, bytes) = quantized(&original);
	assert_eq!(
		(report.tensors, report.dequantization, report.opset),
		(2, Dequantization::CastMul, 11)
	);
	let versions: Vec<(&str, i64)> =
		proto.opset_import.iter().map(|o| (o.domain.as_str(), o.version)).collect();
	assert_eq!(versions, [("", 11), ("com.example", 1)]);
	let graph = proto.graph.as_ref().unwrap();
	let names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
	assert_eq!(names, ["W1_quantized", "W1_scale", "W2_quantized", "W2_scale", "bias", "S", "W3"]);
	// Scales broadcast along the channel axis: W1's columns, W2's rows (transB).
	assert_eq!(
		(graph.initializer[1].dims.as_slice(), graph.initializer[3].dims.as_slice()),
		(&[1, 32][..], &[48, 1][..])
	);
	let new: Vec<(&str, &[String], &str)> = graph.node[..4]
		.iter()
		.map(|n| (n.op_type.as_str(), n.input.as_slice(), n.output[0].as_str()))
		.collect();
	assert_eq!(new[0], ("Cast", &["W1_quantized".to_string()][..], "W1_cast"));
	assert_eq!(graph.node[0].attribute[0].i, 1, "to FLOAT");
	assert_eq!(
		new[1],
		("Mul", &["W1_cast".to_string(), "W1_scale".to_string()][..], "W1_dequantized")
	);
	assert_eq!(graph.node[4].input, ["x", "W1_dequantized"]);

	// The same arithmetic as DequantizeLinear: bit for bit the outputs of the opset-13
	// form (the two models differ only in their opset; Softmax over axis 1 of [1, 48] means
	// the same at both).
	let (before, after) = (run(&original), run(&bytes));
	let opset13 = run(&quantize_onnx(&model(13, true, false)).unwrap().0);
	assert_eq!(after, opset13);
	assert!(crate::agreement::cosine(&before["y"], &after["y"]) > 0.999);

	// Before opset 7, Mul does not broadcast: refused.
	assert_eq!(
		quantize_onnx(&model(6, false, false)).unwrap_err(),
		"the model's opset 6 is older than 7, whose Mul broadcasts: its weights cannot be \
		 dequantized per channel"
	);
}

#[test]
fn constant_node_weights_are_quantized_like_initializers() {
	// W1 as a Constant node, the way paddle2onnx stores weights.
	let original = model(13, false, false);
	let mut proto = pb::ModelProto::decode(&original[..]).unwrap();
	let graph = proto.graph.as_mut().unwrap();
	let mut w1 = graph.initializer.remove(0);
	w1.name.clear();
	let mut constant = node("Constant", &[], "W1", None);
	constant.attribute.push(pb::AttributeProto {
		name: "value".into(),
		r#type: pb::attribute_proto::AttributeType::Tensor as i32,
		t: Some(w1),
		..Default::default()
	});
	graph.node.insert(0, constant);
	let original = proto.encode_to_vec();
	let (quantized, report, bytes) = quantized(&original);
	assert_eq!(report.tensors, 2);
	let graph = quantized.graph.as_ref().unwrap();
	assert!(!graph.node.iter().any(|n| n.op_type == "Constant"), "the Constant node is gone");
	let names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
	assert_eq!(
		names,
		[
			"W2_quantized",
			"W2_scale",
			"W2_zero_point",
			"bias",
			"S",
			"W3",
			"W1_quantized",
			"W1_scale",
			"W1_zero_point"
		]
	);
	let (before, after) = (run(&original), run(&bytes));
	assert!(crate::agreement::cosine(&before["y"], &after["y"]) > 0.999);
	assert_eq!(after, run(&quantize_onnx(&model(13, false, false)).unwrap().0));
}

#[test]
fn weights_over_4_mib_are_dequantized_in_chunks_the_engine_folds() {
	// x [1, 1100] · W [1100, 1024]: 1.13 M elements, columns in two chunks.
	let w = weights(1100 * 1024, 11);
	let mut graph = vec![];
	put_len(&mut graph, GRAPH_NODE, &node("MatMul", &["x", "W"], "y", None).encode_to_vec());
	put_len(&mut graph, GRAPH_INITIALIZER, &initializer("W", &[1100, 1024], &w).encode_to_vec());
	put_len(&mut graph, GRAPH_INPUT, &float_input("x", &[1, 1100]).encode_to_vec());
	put_len(
		&mut graph,
		12,
		&pb::ValueInfoProto { name: "y".into(), ..Default::default() }.encode_to_vec(),
	);
	let mut original = vec![];
	put_len(
		&mut original,
		MODEL_OPSET_IMPORT,
		&pb::OperatorSetIdProto { domain: String::new(), version: 13 }.encode_to_vec(),
	);
	put_len(&mut original, MODEL_GRAPH, &graph);
	let (proto, _, bytes) = quantized(&original);
	let graph = proto.graph.as_ref().unwrap();
	let dims: Vec<(&str, &[i64])> =
		graph.initializer.iter().map(|t| (t.name.as_str(), t.dims.as_slice())).collect();
	assert_eq!(
		dims,
		[
			("W_quantized_0", &[1100, 953][..]),
			("W_scale_0", &[953][..]),
			("W_zero_point_0", &[953][..]),
			("W_quantized_1", &[1100, 71][..]),
			("W_scale_1", &[71][..]),
			("W_zero_point_1", &[71][..]),
		]
	);
	let concat = &graph.node[2];
	assert_eq!(
		(concat.op_type.as_str(), concat.input.as_slice()),
		("Concat", &["W_dequantized_0".to_string(), "W_dequantized_1".to_string()][..])
	);
	assert_eq!(concat.attribute[0].i, 1);
	// The chunks hold the columns of the whole weight's quantization.
	let (q, _) = quantize_values(&w, &[1100, 1024], Some(1)).unwrap();
	assert_eq!(
		graph.initializer[3].raw_data[..71],
		q[953..1024].iter().map(|&v| v as u8).collect::<Vec<_>>()[..]
	);

	let run = |bytes: &[u8]| {
		let model = OnnxModel::load(bytes, &LoadOptions::default()).unwrap();
		let x = Tensor::from_f32("x", vec![1, 1100], &weights(1100, 12)).unwrap();
		model.run(&[x]).unwrap()[0].to_f32().unwrap()
	};
	let cosine = crate::agreement::cosine(&run(&original), &run(&bytes));
	assert!(cosine > 0.999 && cosine < 1.0, "{cosine}");
}

#[test]
fn slices_along_an_axis_keep_the_order() {
	// [2, 3, 2]: channels along axis 1.
	let values: Vec<u32> = (0..12).collect();
	assert_eq!(slice_axis(&values, &[2, 3, 2], 1, 1, 3), [2, 3, 4, 5, 8, 9, 10, 11]);
	assert_eq!(slice_axis(&values, &[2, 3, 2], 0, 1, 2), [6, 7, 8, 9, 10, 11]);
	assert_eq!(slice_axis(&values, &[2, 3, 2], 2, 0, 1), [0, 2, 4, 6, 8, 10]);
	assert_eq!(chunks(&[1100, 1024], 1), [(0, 953), (953, 1024)]);
	assert_eq!(chunks(&[1000, 1280], 0), [(0, 819), (819, 1000)]);
	assert_eq!(chunks(&[64, 32], 1), [(0, 32)]);
	// A channel over the limit on its own: one channel per chunk.
	assert_eq!(chunks(&[1 << 21, 2], 1), [(0, 1), (1, 2)]);
}

#[test]
fn initializers_listed_as_inputs_are_replaced_by_the_new_ones() {
	let original = model(13, false, true);
	let (proto, report, bytes) = quantized(&original);
	assert_eq!(report.tensors, 2);
	let inputs: Vec<&str> =
		proto.graph.as_ref().unwrap().input.iter().map(|i| i.name.as_str()).collect();
	assert_eq!(
		inputs,
		[
			"x",
			"W1_quantized",
			"W1_scale",
			"W1_zero_point",
			"W2_quantized",
			"W2_scale",
			"W2_zero_point",
			"bias",
			"S",
			"W3"
		]
	);
	let (before, after) = (run(&original), run(&bytes));
	assert!(crate::agreement::cosine(&before["y"], &after["y"]) > 0.999);
}

#[test]
fn weights_that_are_not_finite_are_refused() {
	let mut proto = pb::ModelProto::decode(&model(13, false, false)[..]).unwrap();
	let w1 = &mut proto.graph.as_mut().unwrap().initializer[0];
	w1.raw_data[4..8].copy_from_slice(&f32::NAN.to_le_bytes());
	assert_eq!(
		quantize_onnx(&proto.encode_to_vec()).unwrap_err(),
		"weight `W1`: holds NaN, which int8 cannot represent"
	);
}

#[test]
fn the_wire_format_round_trips() {
	let mut message = vec![];
	put_len(&mut message, 1, b"weight");
	put_varint(&mut message, 2 << 3); // field 2, a varint
	put_varint(&mut message, 300);
	message.extend_from_slice(&[(3 << 3) | 5, 1, 2, 3, 4]);
	put_len(&mut message, 1, b"other");
	let fields = fields(&message).unwrap();
	assert_eq!(fields.iter().map(|f| f.number).collect::<Vec<_>>(), [1, 2, 3, 1]);
	assert_eq!(fields[0].payload, b"weight");
	assert_eq!(fields.iter().flat_map(|f| f.raw.iter().copied()).collect::<Vec<_>>(), message);
	let renamed: BTreeMap<String, String> = [("other".into(), "other_dq".into())].into();
	let rewritten = rename_weight_input(&message, &renamed).unwrap();
	let fields = super::fields(&rewritten).unwrap();
	assert_eq!(fields[3].payload, b"other_dq");
	assert_eq!(
		super::fields(&message[..message.len() - 1]).err().as_deref(),
		Some("a truncated field")
	);
}
