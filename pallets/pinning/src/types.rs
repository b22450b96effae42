//! Records kept by the pinning pallet.

use crate::{BalanceOf, Config};
use citrate_ipfs_primitives::proof::ProofError;
use citrate_model_primitives::ModelId;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::{ConstU32, Get},
		BoundedVec, CloneNoBound, DebugNoBound, DefaultNoBound, EqNoBound, PartialEqNoBound,
	},
	frame_system::pallet_prelude::BlockNumberFor,
};
use scale_info::TypeInfo;

/// Eras are numbered from 0 (the genesis era).
pub type EraIndex = u32;

/// A CID in binary CIDv1 form: a CIDv0 and its CIDv1 are one pin.
pub type BinaryCid =
	BoundedVec<u8, ConstU32<{ citrate_ipfs_primitives::cid::MAX_BINARY_CID_LEN as u32 }>>;

/// A CID as text (`Qm…`, `bafy…`, `f01…`), as users submit it.
pub type CidText =
	BoundedVec<u8, ConstU32<{ citrate_ipfs_primitives::cid::MAX_CID_TEXT_LEN as u32 }>>;

/// A registered pinner.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct PinnerInfo<T: Config> {
	/// Held under `HoldReason::PinnerBond`; slashes take from it.
	pub bond: BalanceOf<T>,
	/// The key the pinner's offchain worker signs proofs with.
	pub proof_key: T::ProofKey,
	/// Pins the pinner holds now.
	pub pins: u32,
}

/// How a pin's challenge of one era was answered.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Answer {
	pub era: EraIndex,
	/// Whether every path verified.
	pub valid: bool,
}

impl Answer {
	/// Whether this answer vouches for the pin in era `current`: it verified, and it answered
	/// this era's challenge or the last one (this era's may not be due yet).
	pub fn is_current(&self, current: EraIndex) -> bool {
		self.valid && self.era.saturating_add(1) >= current
	}
}

/// What a client needs to know about one pinner's pin of one file.
#[derive(Encode, Decode, TypeInfo, Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct PinStatus {
	/// Whether the pin exists; every other field is zero when it does not.
	pub pinned: bool,
	/// The size the pinner reported.
	pub size: u64,
	/// The era of the latest answer; 0 when none was received.
	pub last_answered_era: EraIndex,
	/// Whether the latest answer verified and answered this era's or the last era's
	/// challenge ([`Answer::is_current`]).
	pub verified: bool,
}

/// One pinner's pin of one file.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Pin {
	/// The registered model whose root CID this is.
	pub model_id: ModelId,
	/// File size the pinner reported; proofs check it against the root block.
	pub size: u64,
	/// First era whose challenge this pin must answer (the era after the report).
	pub since_era: EraIndex,
	/// Challenges missed or failed in a row.
	pub failures: u32,
	/// The latest answer received.
	pub last_answer: Option<Answer>,
}

/// The current era and the randomness its challenges are drawn from.
#[derive(
	Encode,
	Decode,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	DefaultNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct EraInfo<T: Config> {
	pub index: EraIndex,
	/// The block the era began at; answers are due by `start + ResponseWindow`.
	pub start: BlockNumberFor<T>,
	/// Challenge seed: `blake2_256(parent hash of the era's first block ‖ era index)`.
	pub seed: [u8; 32],
}

/// A pinner's answer to one era's challenge of one pin: the distinct blocks on the paths from
/// the root to the leaves holding each challenged offset, in any order.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxBlocks, MaxBlockLen))]
pub struct PinProof<AccountId, MaxBlocks: Get<u32>, MaxBlockLen: Get<u32>>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
{
	pub era: EraIndex,
	pub pinner: AccountId,
	pub cid: BinaryCid,
	pub blocks: BoundedVec<BoundedVec<u8, MaxBlockLen>, MaxBlocks>,
}

impl<AccountId, MaxBlocks: Get<u32>, MaxBlockLen: Get<u32>>
	PinProof<AccountId, MaxBlocks, MaxBlockLen>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
{
	/// Bytes of all blocks, in KiB rounded up: what the proof's weight grows with.
	pub fn kib(&self) -> u32 {
		let bytes: usize = self.blocks.iter().map(|block| block.len()).sum();
		bytes.div_ceil(1024) as u32
	}
}

/// Why a proof was refused, as recorded in `ProofRejected` events.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum ProofFailure {
	/// A CID on the path is not sha2-256 dag-pb or raw.
	UnsupportedCid,
	/// A block on a challenged path is missing: forged path or wrong leaf.
	MissingBlock,
	/// A block on the path is not a UnixFS file or directory node.
	Malformed,
	/// The root's size is not the size reported, or a block's size is not its parent's entry.
	SizeMismatch,
	/// A challenged offset is outside the file (the reported size is wrong).
	OffsetOutOfRange,
	/// The path is deeper than any real file.
	TooDeep,
	/// The package (directory) has more entries than a proof may walk.
	TooManyEntries,
}

impl From<ProofError> for ProofFailure {
	fn from(error: ProofError) -> Self {
		match error {
			ProofError::UnsupportedCid => Self::UnsupportedCid,
			ProofError::MissingBlock => Self::MissingBlock,
			ProofError::Malformed => Self::Malformed,
			ProofError::SizeMismatch => Self::SizeMismatch,
			ProofError::OffsetOutOfRange => Self::OffsetOutOfRange,
			ProofError::TooDeep => Self::TooDeep,
			ProofError::TooManyEntries => Self::TooManyEntries,
		}
	}
}
