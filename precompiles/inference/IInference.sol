// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @dev The inference precompile: pallet-revive `AddressMatcher::Fixed(0x0C04)`.
address constant INFERENCE_ADDRESS = 0x000000000000000000000000000000000c040000;

/// @title Citrate inference precompile
/// @notice Run a model registered on Citrate on an input, from a contract, and receive the
///         result in a callback once it is final on chain, with its proof of inference.
/// @dev Lives at 0x000000000000000000000000000000000c040000
///      (pallet-revive `AddressMatcher::Fixed(0x0C04)`: the u16 sits in bytes 16..18).
///      The caller of `requestInference` is the requester: it pays, it owns the request and,
///      when it asked for a callback, its `onInferenceResult` (see `IInferenceConsumer`) is
///      called with `msg.sender == INFERENCE_ADDRESS` once the result is final, in a later
///      transaction. Inputs and outputs are the tensor codec's bytes (see the Citrate docs).
///      A pallet error reverts with "Inference.<function>: <Error>", e.g.
///      "Inference.requestInference: NoProvider".
interface IInference {
	/// Where a request stands.
	enum Status {
		/// No such request now: never made, cancelled, expired (and its callback run), or its
		/// receipt was purged.
		Unknown,
		/// Waiting for its providers' results.
		Pending,
		/// An optimistic result was proposed; final when its window passes undisputed.
		Proposed,
		/// A proposed result was disputed; jurors re-run the request.
		Disputed,
		/// Final, with a result (an output, an output stored in IPFS, or a deterministic failure).
		Final,
		/// Ended without a result (no provider answered in time, or no quorum) and refunded;
		/// known while its callback has not run yet, `Unknown` after.
		Expired
	}

	/// What a final result holds.
	enum ResultKind {
		/// No result (yet).
		None,
		/// `output` is the output, in the tensor codec's form.
		Output,
		/// The output was larger than the chain keeps: `output` is the binary CID of the IPFS
		/// file holding it, which the provider stored and pins.
		Stored,
		/// The request cannot succeed on any provider (e.g. an image that does not decode):
		/// `output` is the reason, UTF-8.
		Failed,
		/// No result: the request expired or no quorum agreed; its fees were refunded.
		Expired
	}

	/// The proof of inference the chain keeps for a final request.
	struct Receipt {
		/// False when there is no receipt (pending, expired, or purged); then every other field is zero.
		bool exists;
		address requester;
		uint64 modelId;
		/// Binary CIDv1 of the model package that ran.
		bytes packageCid;
		/// blake2-256 of the input's bytes (or of its CID, for an input passed by CID).
		bytes32 inputHash;
		/// Binary CIDv1 of the input file, for an input passed by CID; empty otherwise.
		bytes inputCid;
		ResultKind kind;
		/// The output hash the providers signed (zero for a failure).
		bytes32 outputHash;
		/// The providers whose signed results made it final (their accounts as addresses).
		address[] providers;
		/// 0 Single, 1 Quorum, 2 Optimistic.
		uint8 verification;
		uint64 requestedAt;
		uint64 answeredAt;
		uint256 pricePaid;
		uint256 computeFeePaid;
	}

	/// `requester` asked `modelId` to run; `fee` is held until it settles (price, compute fees,
	/// callback budget and receipt deposit; what is not spent comes back).
	event InferenceRequested(
		uint64 indexed requestId,
		address indexed requester,
		uint64 indexed modelId,
		uint256 fee,
		uint64 callbackGasLimit
	);
	/// The request's result is final (or it expired): logged when its callback is delivered,
	/// right before the call. Requests without a callback read their result with `result`.
	event InferenceResult(uint64 indexed requestId, ResultKind kind, bytes32 outputHash);
	/// The request's callback was called: `success` false when it reverted or ran out of gas
	/// (the result stays final and readable; the gas it used is paid either way).
	event CallbackDelivered(uint64 indexed requestId, bool success);
	/// The requester raised the request's callback gas limit.
	event CallbackGasRaised(uint64 indexed requestId, uint64 callbackGasLimit);
	/// The requester cancelled the request before any provider answered; `refunded` came back.
	event RequestCancelled(uint64 indexed requestId, uint256 refunded);
	/// The request's receipt was removed and its deposit returned to the requester.
	event ReceiptPurged(uint64 indexed requestId);

	/// What `requestInference` for `modelId` holds: the model's per-call price, the compute fees
	/// of its providers, the callback budget for `callbackGasLimit` and the receipt deposit
	/// (returned when the receipt is purged). `inputLength` is the input's length in bytes (the
	/// fee does not depend on it today; it is refused above the chain's input limit).
	function estimateFee(uint64 modelId, uint32 inputLength, uint64 callbackGasLimit)
		external
		view
		returns (uint256 fee);

	/// Asks `modelId` to run on `input` (tensor codec bytes), paying with `msg.value`: it must
	/// cover `estimateFee`, and what it does not need stays with the caller. With
	/// `callbackGasLimit` > 0, the caller's `onInferenceResult` is called with `callbackData`
	/// once the request is final or expired. Returns the request id.
	function requestInference(
		uint64 modelId,
		bytes calldata input,
		uint64 callbackGasLimit,
		bytes calldata callbackData
	) external payable returns (uint64 requestId);

	/// Same as `requestInference`, for an input in IPFS named by its binary CID.
	function requestInferenceCid(
		uint64 modelId,
		bytes calldata inputCid,
		uint64 callbackGasLimit,
		bytes calldata callbackData
	) external payable returns (uint64 requestId);

	/// Raises the callback gas limit of the caller's request whose callback has not run yet,
	/// paying the difference with `msg.value` (what it does not need stays with the caller).
	function raiseCallbackGas(uint64 requestId, uint64 callbackGasLimit) external payable;

	/// Cancels the caller's pending request before any provider answered; everything held comes
	/// back to the caller.
	function cancelRequest(uint64 requestId) external;

	/// Removes the caller's receipt and returns its deposit (anyone may, once the chain's
	/// retention period has passed).
	function purgeReceipt(uint64 requestId) external;

	/// Where `requestId` stands, and the block it is due by (pending ones).
	function status(uint64 requestId) external view returns (Status status, uint64 deadline);

	/// The final result of `requestId`: what it is, the output (or its CID, or the failure
	/// reason) and the output hash.
	function result(uint64 requestId)
		external
		view
		returns (ResultKind kind, bytes memory output, bytes32 outputHash);

	/// The proof of inference of `requestId`.
	function receipt(uint64 requestId) external view returns (Receipt memory);
}

/// @title What a contract implements to receive inference results
/// @dev Called by the IInference precompile's address in the block after the request is final
///      (or expired), with at most the gas the request named. A revert or running out of gas is
///      recorded (`CallbackDelivered(success = false)`) and does not undo the result.
interface IInferenceConsumer {
	function onInferenceResult(
		uint256 requestId,
		IInference.ResultKind kind,
		bytes calldata output,
		bytes32 outputHash,
		bytes calldata callbackData
	) external;
}
