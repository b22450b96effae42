//! Conversions between the Solidity types and the pallet's, and the fixed address.

use super::*;

#[test]
fn metadata_survives_the_round_trip_through_the_pallet_types() {
	let abi = sample();
	let pallet = metadata_from_abi(&abi).unwrap();
	assert_eq!(pallet.task, InferenceTask::ImageClassification);
	assert_eq!(pallet.inputs[0].dtype, DType::F32);
	assert_eq!(pallet.outputs[0].dtype, DType::F16);
	assert_eq!(pallet.inputs[0].dims[1], Dim::Fixed(3));
	assert!(matches!(&pallet.inputs[0].dims[0], Dim::Symbolic(s) if &s[..] == b"batch"));
	assert_eq!(pallet.tokenizer_cid, None);
	// alloy structs have no PartialEq: compare their ABI encodings.
	use polkadot_sdk::pallet_revive::precompiles::alloy::sol_types::SolValue;
	assert_eq!(metadata_to_abi(&pallet).unwrap().abi_encode(), abi.abi_encode());
}

#[test]
fn over_long_metadata_reverts_naming_the_field() {
	let mut abi = sample();
	abi.tags = (0..=metadata_limits::MAX_TAGS).map(|i| format!("t{i}")).collect();
	assert_eq!(
		reason(metadata_from_abi(&abi).unwrap_err()),
		"ModelRegistry.setMetadata: more than 16 tags"
	);
	let mut abi = sample();
	abi.inputs[0].name = "x".repeat(65);
	assert_eq!(
		reason(metadata_from_abi(&abi).unwrap_err()),
		"ModelRegistry.setMetadata: tensor name longer than 64 bytes"
	);
	let mut abi = sample();
	abi.outputs[0].dims = alloc::vec![dim(1, ""); 9];
	assert_eq!(
		reason(metadata_from_abi(&abi).unwrap_err()),
		"ModelRegistry.setMetadata: more than 8 dimensions"
	);
}

#[test]
fn the_address_matches_the_interface_file() {
	let sol = include_str!("../../IModelRegistry.sol");
	let hex: String = fixed_address().iter().map(|b| format!("{b:02x}")).collect();
	assert!(sol.to_lowercase().contains(&format!("0x{hex}")), "address {hex} in the .sol file");
}
