//! The pallet's errors (a `pallet_section`, imported into the pallet by `lib.rs`).

use polkadot_sdk::frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod errors {
	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a provider.
		AlreadyRegistered,
		/// The account is not a provider.
		NotRegistered,
		/// The bond is below `MinBond`.
		BondTooLow,
		/// Another provider signs with this key.
		KeyInUse,
		/// A provider must accept at least one request per block.
		ZeroCapacity,
		/// The capacity is above `MaxCapacity`.
		CapacityTooHigh,
		/// No model has this id.
		ModelNotFound,
		/// The model is deprecated; it takes no new providers.
		ModelInactive,
		/// The provider already serves this model.
		AlreadyServing,
		/// The provider does not serve this model.
		NotServing,
		/// The provider already serves `MaxModelsPerProvider` models.
		TooManyModels,
		/// The model already has `MaxProvidersPerModel` providers.
		TooManyProviders,
		/// Only an active provider can pause.
		NotActive,
		/// Only a paused provider can resume.
		NotPaused,
		/// The provider is leaving; it can only withdraw its bond.
		Leaving,
		/// The provider has not called `leave`.
		NotLeaving,
		/// The unbonding delay has not passed yet.
		StillUnbonding,
		/// Work is assigned to the provider; it can withdraw once that work is settled.
		WorkAssigned,
		/// Only the model's owner may do this.
		NotModelOwner,
		/// The model has no metadata, so its task is unknown; its owner must set it.
		NoMetadata,
		/// The input is longer than `MaxInputLen`.
		InputTooLarge,
		/// The input is not valid tensor codec bytes.
		MalformedInput,
		/// The input does not carry the tensors the model's task reads (names, dtypes,
		/// shapes, parameter ranges).
		InputNotForTask,
		/// The requester has no access to the model.
		NoAccess,
		/// No active provider serves the model.
		NoProvider,
		/// The fee is above the most the requester agreed to pay.
		FeeAboveMax,
		/// The requester cannot cover the fee.
		InsufficientFunds,
		/// This block took `MaxRequestsPerBlock` requests already.
		TooManyRequests,
		/// No pending request has this id (never made, settled or expired).
		RequestNotFound,
		/// The result comes from a provider the request is not assigned to.
		NotAssigned,
		/// The request's deadline has passed.
		TooLate,
		/// The output is not valid tensor codec bytes.
		MalformedOutput,
		/// The encoded signature is longer than `MaxSignatureLen`.
		SignatureTooLong,
		/// A quorum needs `1 < n <= MaxQuorum` and more than half of `n` to agree
		/// (`n / 2 < k <= n`).
		InvalidQuorum,
		/// Fewer active providers serve the model than its quorum needs.
		NotEnoughProviders,
		/// The model's providers took as many requests this block as they accept
		/// (`capacity`); try again in the next block.
		AtCapacity,
		/// The request is verified by a quorum: results go through `commit_result` and
		/// `reveal_result`.
		QuorumRequest,
		/// The request is not voted on (neither a quorum nor a disputed optimistic result):
		/// its result goes through `submit_result`.
		NotQuorumRequest,
		/// The provider already committed to a result for this request.
		AlreadyCommitted,
		/// The commit window closed.
		CommitsClosed,
		/// The provider has not committed to a result for this request.
		NotCommitted,
		/// Reveals open once every provider committed or the commit window closed.
		CommitsOpen,
		/// The provider already revealed its result.
		AlreadyRevealed,
		/// The revealed result and salt do not give the commitment.
		RevealMismatch,
		/// No receipt has this id.
		ReceiptNotFound,
		/// The receipt is younger than `ReceiptRetention`; only its requester may remove it.
		ReceiptRetained,
		/// A CID (an input's, or a stored output's) is not a binary CID of content a Citrate
		/// store holds (sha2-256 over dag-pb or raw blocks).
		InvalidCid,
		/// The request already has a result (an optimistic result is proposed).
		AlreadyAnswered,
		/// An `Optimistic` window must be at least one block and at most
		/// `MaxChallengeWindow`.
		InvalidWindow,
		/// Only an `Optimistic` request's result can be disputed.
		NotOptimistic,
		/// The request has no proposed result to dispute yet.
		NoProposal,
		/// The proposed result is already disputed.
		AlreadyDisputed,
		/// A provider cannot dispute its own result.
		OwnResult,
		/// The disputing result agrees with the proposed one under the model's comparison.
		DisputeAgrees,
		/// This runtime does not deliver callbacks.
		CallbacksUnsupported,
		/// A callback's weight limit is above `MaxCallbackWeight`.
		CallbackWeightTooHigh,
		/// A callback's data is longer than `MaxCallbackData`.
		CallbackDataTooLong,
		/// The request has no callback (none asked for, or already delivered).
		NoCallback,
		/// The request's callback is not due yet: the request is still pending.
		CallbackNotDue,
		/// A callback's new weight limit must be above its current one; a delivery must declare
		/// at least the callback's limit.
		CallbackWeightTooLow,
		/// Only the request's requester may do this.
		NotRequester,
		/// The receipt's callback has not run yet; the receipt is kept until it has.
		CallbackPending,
	}
}
