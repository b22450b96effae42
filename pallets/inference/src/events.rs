//! The pallet's events (a `pallet_section`, imported into the pallet by `lib.rs`).

use polkadot_sdk::frame_support::pallet_macros::pallet_section;

#[pallet_section]
mod events {
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered and bonded.
		ProviderRegistered {
			provider: T::AccountId,
			bond: BalanceOf<T>,
			key: T::ProviderKey,
			hardware: HardwareClass,
			capacity: u32,
		},
		/// A provider added `amount` to its bond, which is now `bond`.
		ProviderBonded { provider: T::AccountId, amount: BalanceOf<T>, bond: BalanceOf<T> },
		/// A provider changed its hardware class or capacity.
		ProviderUpdated { provider: T::AccountId, hardware: HardwareClass, capacity: u32 },
		/// A provider's results are signed by `key` from now on.
		ProviderKeyChanged { provider: T::AccountId, key: T::ProviderKey },
		/// A provider serves `model_id` from now on.
		ModelServed { provider: T::AccountId, model_id: ModelId },
		/// A provider stopped serving `model_id`.
		ModelDropped { provider: T::AccountId, model_id: ModelId },
		/// A provider stopped taking new work.
		ProviderPaused { provider: T::AccountId },
		/// A paused provider takes work again.
		ProviderResumed { provider: T::AccountId },
		/// A provider is leaving; its bond can be withdrawn from block `unlocks_at`.
		ProviderLeaving { provider: T::AccountId, unlocks_at: BlockNumberFor<T> },
		/// A provider left; `bond` was released.
		ProviderLeft { provider: T::AccountId, bond: BalanceOf<T> },
		/// `model_id` left the registry; the `providers` serving it stopped.
		ModelServiceEnded { model_id: ModelId, providers: u32 },
		/// A model's owner set its per-call price.
		PriceSet { model_id: ModelId, price: BalanceOf<T> },
		/// A request was accepted and assigned; `price + compute_fee` is held from the
		/// requester until it settles, at the latest at `deadline`.
		InferenceRequested {
			request_id: RequestId,
			requester: T::AccountId,
			model_id: ModelId,
			/// One provider, or a quorum's `n`.
			providers: Vec<T::AccountId>,
			input_hash: [u8; 32],
			price: BalanceOf<T>,
			/// Every provider's compute fee together.
			compute_fee: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		},
		/// A request went unanswered until its deadline; `refunded` went back to the requester.
		RequestExpired { request_id: RequestId, refunded: BalanceOf<T> },
		/// A model's owner set its verification terms.
		TermsSet { model_id: ModelId, verification: Verification, comparison: Comparison },
		/// A quorum provider committed to its result.
		ResultCommitted { request_id: RequestId, provider: T::AccountId },
		/// A quorum provider revealed its result (`output_hash` is `None` for a failure).
		ResultRevealed {
			request_id: RequestId,
			provider: T::AccountId,
			output_hash: Option<[u8; 32]>,
		},
		/// `providers` agreed and their result is final: `compute_fee` went to them, together,
		/// and `price_paid` to the model's owner and the treasury.
		QuorumReached {
			request_id: RequestId,
			providers: Vec<T::AccountId>,
			output_hash: Option<[u8; 32]>,
			price_paid: BalanceOf<T>,
			compute_fee: BalanceOf<T>,
		},
		/// Too few providers agreed by the deadline; `refunded` went back to the requester.
		NoQuorum { request_id: RequestId, refunded: BalanceOf<T> },
		/// A quorum provider disagreed with the final result or did not answer: `amount` of
		/// its bond went to the providers whose result is final (or, without a quorum, to the
		/// requester).
		ProviderSlashed { request_id: RequestId, provider: T::AccountId, amount: BalanceOf<T> },
		/// A receipt was removed by `by` (its requester, or anyone after `ReceiptRetention`);
		/// `deposit` went back to the requester.
		ReceiptPurged { request_id: RequestId, by: T::AccountId, deposit: BalanceOf<T> },
		/// The assigned provider proposed its result to an `Optimistic` request; it is final
		/// at block `final_at` unless disputed before.
		ResultProposed {
			request_id: RequestId,
			provider: T::AccountId,
			output_hash: Option<[u8; 32]>,
			final_at: BlockNumberFor<T>,
		},
		/// An optimistic result went undisputed through its window and is final:
		/// `compute_fee` went to the provider and `price_paid` to the model's owner and the
		/// treasury.
		ResultFinalized {
			request_id: RequestId,
			provider: T::AccountId,
			output_hash: Option<[u8; 32]>,
			price_paid: BalanceOf<T>,
			compute_fee: BalanceOf<T>,
		},
		/// `challenger` disputed the proposed result with its own (`output_hash`); `jurors`
		/// re-run the request, committing then revealing, until `deadline`.
		ResultDisputed {
			request_id: RequestId,
			challenger: T::AccountId,
			output_hash: Option<[u8; 32]>,
			jurors: Vec<T::AccountId>,
			deadline: BlockNumberFor<T>,
		},
		/// The jurors settled a dispute: `upheld` is true when the proposed result stood.
		/// `providers` are those whose result is final (the honest side, if either, and the
		/// agreeing jurors); `compute_fee` went to the one whose result is final and
		/// `price_paid` to the model's owner and the treasury.
		DisputeSettled {
			request_id: RequestId,
			upheld: bool,
			providers: Vec<T::AccountId>,
			output_hash: Option<[u8; 32]>,
			price_paid: BalanceOf<T>,
			compute_fee: BalanceOf<T>,
		},
		/// The assigned provider answered and the request settled: `output_hash` is `None`
		/// for a deterministic failure, whose price was refunded; `compute_fee` went to the
		/// provider and `price_paid` to the model's owner and the treasury.
		ResultSubmitted {
			request_id: RequestId,
			provider: T::AccountId,
			output_hash: Option<[u8; 32]>,
			price_paid: BalanceOf<T>,
			compute_fee: BalanceOf<T>,
		},
		/// A callback is due: the request is final, or ended without a result (`kind`
		/// `Expired`); [`Pallet::deliver_callback`] runs it.
		CallbackDue { request_id: RequestId, kind: ResultKind },
		/// A request's callback ran: `success` is false when it reverted, ran out of weight or
		/// could not be called (the result stays final). `fee` (for `weight_used`) was burnt and
		/// `deposit` taken for the callee's storage; the rest of what was held went back.
		CallbackDelivered {
			request_id: RequestId,
			success: bool,
			weight_used: Weight,
			fee: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
		/// The requester raised its callback's weight limit; `held` is now held for it.
		CallbackLimitRaised { request_id: RequestId, weight_limit: Weight, held: BalanceOf<T> },
		/// The requester cancelled its request before any provider answered; `refunded` (every
		/// fee and deposit held for it) went back.
		RequestCancelled { request_id: RequestId, refunded: BalanceOf<T> },
	}
}
