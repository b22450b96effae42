//! Tract's knobs (kernel choices it reads from `TRACT_*` environment variables) are pinned to
//! their defaults when the engine loads a model, so an operator's environment cannot make one
//! provider plan a model differently from the others. Its own test binary: it sets the
//! environment before anything else in the process reads it.

use citrate_inference::onnx::{LoadOptions, OnnxModel};
use tract_onnx::tract_core::knobs;

#[test]
fn tract_environment_variables_do_not_change_plans() {
	// The only test in this binary: no other thread reads the environment.
	std::env::set_var("TRACT_DISABLE_DIRECT_SPATIAL", "1");
	let knob = || knobs::all().into_iter().find(|k| k.name == "TRACT_DISABLE_DIRECT_SPATIAL");
	let knob = knob().expect("tract declares the knob");
	assert_eq!((knob.current)(), "true", "tract reads the environment");

	let asset =
		std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets/echo-encoder.onnx");
	OnnxModel::load(&std::fs::read(asset).unwrap(), &LoadOptions::default()).unwrap();
	assert_eq!((knob.current)(), "false");
	for knob in knobs::all() {
		assert_eq!((knob.current)(), (knob.default)(), "{}", knob.name);
	}
}
