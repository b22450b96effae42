// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @dev The model registry precompile: pallet-revive `AddressMatcher::Fixed(0x0C01)`.
address constant MODEL_REGISTRY_ADDRESS = 0x000000000000000000000000000000000C010000;

/// @title Citrate model registry precompile
/// @notice Register AI models, publish versions, describe them and read them back.
/// @dev Lives at 0x000000000000000000000000000000000C010000
///      (pallet-revive `AddressMatcher::Fixed(0x0C01)`: the u16 sits in bytes 16..18).
///      Every state change emits a log; a pallet error reverts with
///      "ModelRegistry.<function>: <Error>", e.g. "ModelRegistry.registerModel: NameAlreadyRegistered".
///      The registering account (a user or a contract) pays the model's storage deposit
///      from its own balance, so a contract that registers models must hold some CTR.
interface IModelRegistry {
	/// What kind of data a model works on.
	enum ModelType { Language, Vision, Audio, Multimodal, Embedding, Custom }
	/// The format of the weights behind the CID.
	enum Framework { Onnx, Safetensors, Gguf, PyTorch, TensorFlow, Other }
	/// The license family; the exact license is named by `licenseId` (SPDX).
	enum LicenseKind { OpenSource, Commercial, ResearchOnly, Custom }
	/// The task a model serves; it selects the node's input/output pipeline.
	enum InferenceTask {
		FeatureExtraction,
		TextClassification,
		ImageClassification,
		Ocr,
		SpeechToText,
		VoiceActivity,
		TextGeneration,
		RawTensors,
		FillMask,
		Text2TextGeneration,
		ZeroShotImageClassification
	}
	/// Element type of a tensor; the value is the tensor codec's dtype byte (0 = F32 … 9 = Bool).
	enum TensorDType { F32, F16, BF16, F64, I8, U8, I16, I32, I64, Bool }

	/// One dimension: a fixed `size`, or a named size (`symbol`, e.g. "batch") when
	/// `symbol` is not empty.
	struct Dim {
		uint64 size;
		string symbol;
	}

	/// Name, element type and shape of one input or output tensor (at most 8 dims).
	struct TensorSpec {
		string name;
		TensorDType dtype;
		Dim[] dims;
	}

	/// What a model version does and what it needs. Limits: description 1024 bytes,
	/// 16 inputs and 16 outputs, 16 tags of 32 bytes, documentation 256 bytes.
	struct ModelMetadata {
		string description;
		InferenceTask task;
		TensorSpec[] inputs;
		TensorSpec[] outputs;
		uint64 parameterCount;
		uint64 flopsPerInference;
		uint64 minMemoryBytes;
		string[] tags;
		/// A documentation URL or CID; may be empty.
		string documentation;
		/// CID of the tokenizer or preprocessing files; empty for none.
		string tokenizerCid;
	}

	/// One registered model version.
	struct Model {
		uint64 id;
		string name;
		string cid;
		address owner;
		uint32 version;
		ModelType modelType;
		Framework framework;
		uint64 sizeBytes;
		LicenseKind licenseKind;
		string licenseId;
		/// False once the owner deprecated this version.
		bool active;
		uint64 usageCount;
		uint256 totalRewards;
		uint64 registeredAt;
		/// Whether `metadata` was set; all-zero otherwise.
		bool hasMetadata;
		ModelMetadata metadata;
	}

	/// A new model name was registered as version 1.
	event ModelRegistered(uint64 indexed modelId, address indexed owner, string name, string cid);
	/// Version `version` of a model was published as `modelId`, after `previousId`.
	event VersionPublished(uint64 indexed modelId, uint64 indexed previousId, uint32 version, string cid);
	/// The owner set or replaced a model version's metadata.
	event MetadataSet(uint64 indexed modelId, address indexed owner);
	/// Every version of the model `modelId` belongs to moved from `from` to `to`.
	event OwnershipTransferred(uint64 indexed modelId, address indexed from, address indexed to);
	/// The owner deprecated a model version.
	event ModelDeprecated(uint64 indexed modelId);
	/// The owner removed a deprecated model version; its access tiers and pins ended with it.
	event ModelRemoved(uint64 indexed modelId);

	/// Registers a new model name as version 1, owned by the caller.
	/// @return modelId The id of the new model version.
	function registerModel(
		string calldata name,
		string calldata cid,
		ModelType modelType,
		Framework framework,
		uint64 sizeBytes,
		LicenseKind licenseKind,
		string calldata licenseId
	) external returns (uint64 modelId);

	/// Publishes the next version of a model the caller owns, with new weights.
	/// @return modelId The id of the new version.
	function publishVersion(string calldata name, string calldata cid, Framework framework, uint64 sizeBytes)
		external
		returns (uint64 modelId);

	/// Sets or replaces the metadata of a model version the caller owns.
	function setMetadata(uint64 modelId, ModelMetadata calldata metadata) external;

	/// Hands every version of the caller's model `modelId` to `newOwner`. Deposits stay with
	/// the accounts that paid them.
	function transferOwnership(uint64 modelId, address newOwner) external;

	/// Retires a model version of the caller's; it stays readable and can then be removed.
	function deprecate(uint64 modelId) external;

	/// Deletes a deprecated model version of the caller's and releases its deposits; its
	/// access tiers are retired and its pins end.
	function removeModel(uint64 modelId) external;

	/// A model version with its metadata. Reverts when no model has this id.
	function getModel(uint64 modelId) external view returns (Model memory);

	/// The ids of every stored version of `name`, oldest first; empty when unknown.
	function versionsOf(string calldata name) external view returns (uint64[] memory);

	/// The ids of the model versions `owner` owns.
	function modelsOf(address owner) external view returns (uint64[] memory);
}
