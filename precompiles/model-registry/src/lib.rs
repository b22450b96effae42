//! `IModelRegistry` precompile: the model registry for Solidity contracts and Ethereum tools.
//!
//! Address `0x000000000000000000000000000000000C010000` (`AddressMatcher::Fixed(0x0C01)`).
//! The interface is [`IModelRegistry.sol`](../IModelRegistry.sol), compiled here by
//! `alloy::sol!` so the Solidity file is the single source of the ABI.
//!
//! Every function charges its weight before doing anything (precompiles are unmetered),
//! then calls `pallet-model-registry`'s own `do_*` and view functions, so every check and
//! every read lives in the pallet; this crate only maps the ABI. Pallet errors become
//! `revert("ModelRegistry.<function>: <Error>")`; malformed calldata, value sent to a
//! function and writes in a static or delegate call revert with a reason too.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use citrate_precompile_utils::{
	account_of, address_of, caller_account, dispatch_revert, emit, ensure_mutable, ensure_no_value,
	enum_from_u8, enum_to_u8, revert, to_abi_u256, Calldata, Signatures,
};
use core::{marker::PhantomData, num::NonZero};
use pallet_model_registry::{
	metadata_limits, DType, Dim, InferenceTask, ModelMetadata, Pallet as Registry, TensorSpec,
	WeightInfo,
};
use polkadot_sdk::{
	frame_support::{traits::Get, weights::Weight, BoundedVec},
	pallet_revive::precompiles::{
		alloy::sol_types::SolCall, AddressMatcher, Error, Ext, Precompile,
	},
};

alloy_core::sol!("IModelRegistry.sol");

use IModelRegistry::IModelRegistryCalls as Call;

/// The `u16` in [`AddressMatcher::Fixed`]: bytes 16..18 of the address.
pub const ADDRESS_INDEX: u16 = 0x0C01;

/// The precompile's address, `0x000000000000000000000000000000000C010000`.
pub const fn fixed_address() -> [u8; 20] {
	citrate_precompile_utils::fixed_address(ADDRESS_INDEX)
}

/// The model registry precompile for runtime `T`.
pub struct ModelRegistryPrecompile<T>(PhantomData<T>);

type BalanceOf<T> = pallet_model_registry::BalanceOf<T>;

impl<T> Precompile for ModelRegistryPrecompile<T>
where
	T: pallet_model_registry::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: Into<u128>,
{
	type T = T;
	type Interface = Calldata<Call>;
	const MATCHER: AddressMatcher = AddressMatcher::Fixed(NonZero::new(ADDRESS_INDEX).unwrap());
	const HAS_CONTRACT_INFO: bool = false;

	fn call(
		_address: &[u8; 20],
		input: &Self::Interface,
		env: &mut impl Ext<T = Self::T>,
	) -> Result<Vec<u8>, Error> {
		match input.call()? {
			Call::registerModel(call) => Self::register_model(call, env),
			Call::publishVersion(call) => Self::publish_version(call, env),
			Call::setMetadata(call) => Self::set_metadata(call, env),
			Call::transferOwnership(call) => Self::transfer_ownership(call, env),
			Call::deprecate(call) => Self::deprecate(call, env),
			Call::removeModel(call) => Self::remove_model(call, env),
			Call::getModel(call) => Self::get_model(call, env),
			Call::versionsOf(call) => Self::versions_of(call, env),
			Call::modelsOf(call) => Self::models_of(call, env),
		}
	}
}

impl Signatures for Call {
	fn signature(selector: [u8; 4]) -> Option<&'static str> {
		Call::signature_by_selector(selector)
	}
}

impl<T> ModelRegistryPrecompile<T>
where
	T: pallet_model_registry::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: Into<u128>,
{
	fn reads(n: u64) -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get().reads(n)
	}

	fn register_model(
		call: &IModelRegistry::registerModelCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_registry::Config>::WeightInfo::register_model())?;
		ensure_mutable(env, "ModelRegistry.registerModel")?;
		ensure_no_value(env, "ModelRegistry.registerModel")?;
		let owner = caller_account(env)?;
		let model_id = Registry::<T>::do_register_model(
			owner.clone(),
			call.name.as_bytes().to_vec(),
			call.cid.as_bytes().to_vec(),
			enum_from_u8(u8::from(call.modelType), "model type")?,
			enum_from_u8(u8::from(call.framework), "framework")?,
			call.sizeBytes,
			enum_from_u8(u8::from(call.licenseKind), "license kind")?,
			call.licenseId.as_bytes().to_vec(),
		)
		.map_err(|e| dispatch_revert("ModelRegistry.registerModel", e))?;
		emit(
			env,
			IModelRegistry::ModelRegistered {
				modelId: model_id,
				owner: address_of::<T>(&owner),
				name: call.name.clone(),
				cid: call.cid.clone(),
			},
		)?;
		Ok(IModelRegistry::registerModelCall::abi_encode_returns(&model_id))
	}

	fn publish_version(
		call: &IModelRegistry::publishVersionCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_registry::Config>::WeightInfo::publish_version())?;
		ensure_mutable(env, "ModelRegistry.publishVersion")?;
		ensure_no_value(env, "ModelRegistry.publishVersion")?;
		let owner = caller_account(env)?;
		let published = Registry::<T>::do_publish_version(
			owner,
			call.name.as_bytes().to_vec(),
			call.cid.as_bytes().to_vec(),
			enum_from_u8(u8::from(call.framework), "framework")?,
			call.sizeBytes,
		)
		.map_err(|e| dispatch_revert("ModelRegistry.publishVersion", e))?;
		emit(
			env,
			IModelRegistry::VersionPublished {
				modelId: published.model_id,
				previousId: published.previous,
				version: published.version,
				cid: call.cid.clone(),
			},
		)?;
		Ok(IModelRegistry::publishVersionCall::abi_encode_returns(&published.model_id))
	}

	fn set_metadata(
		call: &IModelRegistry::setMetadataCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_registry::Config>::WeightInfo::set_metadata())?;
		ensure_mutable(env, "ModelRegistry.setMetadata")?;
		ensure_no_value(env, "ModelRegistry.setMetadata")?;
		let owner = caller_account(env)?;
		let metadata = metadata_from_abi(&call.metadata)?;
		Registry::<T>::do_set_metadata(owner.clone(), call.modelId, metadata)
			.map_err(|e| dispatch_revert("ModelRegistry.setMetadata", e))?;
		emit(
			env,
			IModelRegistry::MetadataSet { modelId: call.modelId, owner: address_of::<T>(&owner) },
		)?;
		Ok(Vec::new())
	}

	fn transfer_ownership(
		call: &IModelRegistry::transferOwnershipCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		let max_versions = <T as pallet_model_registry::Config>::MaxVersions::get();
		env.charge(<T as pallet_model_registry::Config>::WeightInfo::transfer_ownership(
			max_versions,
		))?;
		ensure_mutable(env, "ModelRegistry.transferOwnership")?;
		ensure_no_value(env, "ModelRegistry.transferOwnership")?;
		let owner = caller_account(env)?;
		let new_owner = account_of::<T>(call.newOwner);
		Registry::<T>::do_transfer_ownership(owner.clone(), call.modelId, new_owner)
			.map_err(|e| dispatch_revert("ModelRegistry.transferOwnership", e))?;
		emit(
			env,
			IModelRegistry::OwnershipTransferred {
				modelId: call.modelId,
				from: address_of::<T>(&owner),
				to: call.newOwner,
			},
		)?;
		Ok(Vec::new())
	}

	fn deprecate(
		call: &IModelRegistry::deprecateCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_registry::Config>::WeightInfo::deprecate())?;
		ensure_mutable(env, "ModelRegistry.deprecate")?;
		ensure_no_value(env, "ModelRegistry.deprecate")?;
		let owner = caller_account(env)?;
		Registry::<T>::do_deprecate(owner, call.modelId)
			.map_err(|e| dispatch_revert("ModelRegistry.deprecate", e))?;
		emit(env, IModelRegistry::ModelDeprecated { modelId: call.modelId })?;
		Ok(Vec::new())
	}

	fn remove_model(
		call: &IModelRegistry::removeModelCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		// The worst case, hooks included; the unused part is not refunded to a precompile
		// caller, as for any other precompile weight.
		env.charge(
			<T as pallet_model_registry::Config>::WeightInfo::remove_model().saturating_add(
				<T::OnModelRemoved as pallet_model_registry::OnModelRemoved>::max_weight(),
			),
		)?;
		ensure_mutable(env, "ModelRegistry.removeModel")?;
		ensure_no_value(env, "ModelRegistry.removeModel")?;
		let owner = caller_account(env)?;
		Registry::<T>::do_remove_model(owner, call.modelId)
			.map_err(|e| dispatch_revert("ModelRegistry.removeModel", e))?;
		emit(env, IModelRegistry::ModelRemoved { modelId: call.modelId })?;
		Ok(Vec::new())
	}

	fn get_model(
		call: &IModelRegistry::getModelCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(2))?;
		ensure_no_value(env, "ModelRegistry.getModel")?;
		let model = Registry::<T>::model(call.modelId)
			.ok_or_else(|| revert("ModelRegistry.getModel: ModelNotFound"))?;
		let metadata = Registry::<T>::metadata(call.modelId);
		let out = IModelRegistry::Model {
			id: call.modelId,
			name: text(&model.name),
			cid: text(&model.cid),
			owner: address_of::<T>(&model.owner),
			version: model.version,
			modelType: abi_enum(&model.model_type)?,
			framework: abi_enum(&model.framework)?,
			sizeBytes: model.size_bytes,
			licenseKind: abi_enum(&model.license.kind)?,
			licenseId: text(&model.license.identifier),
			active: model.status == pallet_model_registry::ModelStatus::Active,
			usageCount: model.usage_count,
			totalRewards: to_abi_u256(model.total_rewards.into()),
			registeredAt: polkadot_sdk::sp_runtime::SaturatedConversion::saturated_into(
				model.registered_at,
			),
			hasMetadata: metadata.is_some(),
			metadata: match metadata {
				Some(metadata) => metadata_to_abi(&metadata)?,
				None => empty_metadata(),
			},
		};
		Ok(IModelRegistry::getModelCall::abi_encode_returns(&out))
	}

	fn versions_of(
		call: &IModelRegistry::versionsOfCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(1))?;
		ensure_no_value(env, "ModelRegistry.versionsOf")?;
		let ids = Registry::<T>::versions_of(call.name.as_bytes().to_vec());
		Ok(IModelRegistry::versionsOfCall::abi_encode_returns(&ids))
	}

	fn models_of(
		call: &IModelRegistry::modelsOfCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(1))?;
		ensure_no_value(env, "ModelRegistry.modelsOf")?;
		let ids = Registry::<T>::models_of(account_of::<T>(call.owner));
		Ok(IModelRegistry::modelsOfCall::abi_encode_returns(&ids))
	}
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// A pallet enum as the Solidity enum with the same variant order.
fn abi_enum<E: codec::Encode, A: TryFrom<u8>>(value: &E) -> Result<A, Error> {
	A::try_from(enum_to_u8(value)).map_err(|_| revert("enum out of range"))
}

fn bounded<const N: u32>(
	value: &str,
	what: &str,
) -> Result<BoundedVec<u8, polkadot_sdk::frame_support::traits::ConstU32<N>>, Error> {
	value
		.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| revert(format!("ModelRegistry.setMetadata: {what} longer than {N} bytes")))
}

fn bounded_list<I, const N: u32>(
	items: Vec<I>,
	what: &str,
) -> Result<BoundedVec<I, polkadot_sdk::frame_support::traits::ConstU32<N>>, Error> {
	items.try_into().map_err(|_| revert(format!("ModelRegistry.setMetadata: more than {N} {what}")))
}

fn tensor_from_abi(spec: &IModelRegistry::TensorSpec) -> Result<TensorSpec, Error> {
	use metadata_limits::*;
	let dims = spec
		.dims
		.iter()
		.map(|dim| {
			Ok(if dim.symbol.is_empty() {
				Dim::Fixed(dim.size)
			} else {
				Dim::Symbolic(bounded::<MAX_DIM_SYMBOL_LEN>(&dim.symbol, "dimension symbol")?)
			})
		})
		.collect::<Result<Vec<_>, Error>>()?;
	Ok(TensorSpec {
		name: bounded::<MAX_TENSOR_NAME_LEN>(&spec.name, "tensor name")?,
		dtype: DType::from_code(u8::from(spec.dtype))
			.ok_or_else(|| revert("ModelRegistry.setMetadata: unknown tensor dtype"))?,
		dims: bounded_list::<_, MAX_RANK>(dims, "dimensions")?,
	})
}

/// Solidity metadata as the pallet's bounded metadata; over-long fields revert by name.
fn metadata_from_abi(m: &IModelRegistry::ModelMetadata) -> Result<ModelMetadata, Error> {
	use metadata_limits::*;
	let tensors = |list: &Vec<IModelRegistry::TensorSpec>, what| {
		let specs = list.iter().map(tensor_from_abi).collect::<Result<Vec<_>, Error>>()?;
		bounded_list::<_, MAX_TENSORS>(specs, what)
	};
	let tags = m
		.tags
		.iter()
		.map(|tag| bounded::<MAX_TAG_LEN>(tag, "tag"))
		.collect::<Result<Vec<_>, Error>>()?;
	Ok(ModelMetadata {
		description: bounded::<MAX_DESCRIPTION_LEN>(&m.description, "description")?,
		task: enum_from_u8::<InferenceTask>(u8::from(m.task), "task")?,
		inputs: tensors(&m.inputs, "inputs")?,
		outputs: tensors(&m.outputs, "outputs")?,
		parameter_count: m.parameterCount,
		flops_per_inference: m.flopsPerInference,
		min_memory_bytes: m.minMemoryBytes,
		tags: bounded_list::<_, MAX_TAGS>(tags, "tags")?,
		documentation: bounded::<MAX_DOCUMENTATION_LEN>(&m.documentation, "documentation")?,
		tokenizer_cid: if m.tokenizerCid.is_empty() {
			None
		} else {
			Some(bounded::<MAX_AUX_CID_LEN>(&m.tokenizerCid, "tokenizer CID")?)
		},
		// Imports are attested by the importer's extrinsic; the Solidity struct has no field.
		import_attestation: None,
	})
}

fn metadata_to_abi(m: &ModelMetadata) -> Result<IModelRegistry::ModelMetadata, Error> {
	let tensors = |list: &[TensorSpec]| {
		list.iter()
			.map(|spec| {
				Ok(IModelRegistry::TensorSpec {
					name: text(&spec.name),
					dtype: abi_enum(&spec.dtype)?,
					dims: spec
						.dims
						.iter()
						.map(|dim| match dim {
							Dim::Fixed(size) => {
								IModelRegistry::Dim { size: *size, symbol: String::new() }
							}
							Dim::Symbolic(symbol) => {
								IModelRegistry::Dim { size: 0, symbol: text(symbol) }
							}
						})
						.collect(),
				})
			})
			.collect::<Result<Vec<_>, Error>>()
	};
	Ok(IModelRegistry::ModelMetadata {
		description: text(&m.description),
		task: abi_enum(&m.task)?,
		inputs: tensors(&m.inputs)?,
		outputs: tensors(&m.outputs)?,
		parameterCount: m.parameter_count,
		flopsPerInference: m.flops_per_inference,
		minMemoryBytes: m.min_memory_bytes,
		tags: m.tags.iter().map(|tag| text(tag)).collect(),
		documentation: text(&m.documentation),
		tokenizerCid: m.tokenizer_cid.as_ref().map(|cid| text(cid)).unwrap_or_default(),
	})
}

fn empty_metadata() -> IModelRegistry::ModelMetadata {
	IModelRegistry::ModelMetadata {
		description: String::new(),
		task: IModelRegistry::InferenceTask::FeatureExtraction,
		inputs: Vec::new(),
		outputs: Vec::new(),
		parameterCount: 0,
		flopsPerInference: 0,
		minMemoryBytes: 0,
		tags: Vec::new(),
		documentation: String::new(),
		tokenizerCid: String::new(),
	}
}

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
