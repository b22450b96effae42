//! Symmetric per-channel int8 arithmetic.

/// Symmetric int8 quantization of `values`, a tensor of `shape`, with one scale per index of
/// `axis` (per channel) or one for the whole tensor (`None`). Returns the int8 values, in
/// the same order, and the scales. Each value is `q · scale` to within `scale / 2`; a channel
/// of zeros gets scale 1 (and zeros), so nothing divides by zero. NaN and infinite values are
/// refused: they have no int8 representation.
pub fn quantize_values(
	values: &[f32],
	shape: &[usize],
	axis: Option<usize>,
) -> Result<(Vec<i8>, Vec<f32>), String> {
	let elements: usize = shape.iter().product();
	if elements != values.len() {
		return Err(format!("{} values for shape {shape:?}", values.len()));
	}
	if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
		return Err(format!("holds {bad}, which int8 cannot represent"));
	}
	// A value's channel is its index along `axis`: (index / inner) % channels.
	let (channels, inner) = match axis {
		Some(axis) if axis < shape.len() => (shape[axis], shape[axis + 1..].iter().product()),
		Some(axis) => return Err(format!("axis {axis} out of range for shape {shape:?}")),
		None => (1, elements.max(1)),
	};
	let channel = |index: usize| (index / inner.max(1)) % channels.max(1);
	let mut max_abs = vec![0f32; channels];
	for (index, value) in values.iter().enumerate() {
		let max = &mut max_abs[channel(index)];
		*max = max.max(value.abs());
	}
	let scales: Vec<f32> = max_abs
		.iter()
		.map(|&max| {
			let scale = max / 127.0;
			// All zeros, or so small the scale underflows: any scale represents them as 0.
			if scale > 0.0 {
				scale
			} else {
				1.0
			}
		})
		.collect();
	let quantized = values
		.iter()
		.enumerate()
		.map(|(index, &value)| (value / scales[channel(index)]).round().clamp(-127.0, 127.0) as i8)
		.collect();
	Ok((quantized, scales))
}
