//! Types stored by the model access pallet.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	frame_system::pallet_prelude::BlockNumberFor,
};
use scale_info::TypeInfo;

/// A tier's number within its model, below `MaxTiersPerModel`, chosen by the owner.
pub type TierId = u32;

/// What one purchase of a tier buys.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct AccessTier<T: Config> {
	/// What the buyer pays, split between the model owner and the treasury.
	pub price: BalanceOf<T>,
	/// How many blocks of access one purchase adds.
	pub duration: BlockNumberFor<T>,
	/// Uses one purchase adds; 0 means unlimited.
	pub max_uses: u32,
	/// Who holds the tier's storage deposit (the owner who created it) and how much.
	pub depositor: T::AccountId,
	pub deposit: BalanceOf<T>,
}

/// How many uses an access grant has left.
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
pub enum Uses {
	Unlimited,
	Limited(u32),
}

/// What an account bought for a model: valid while the block number is below `expires_at`
/// and uses are left.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct AccessGrant<T: Config> {
	/// The tier of the latest purchase.
	pub tier_id: TierId,
	/// First block at which the grant no longer gives access.
	pub expires_at: BlockNumberFor<T>,
	pub uses_left: Uses,
}

impl<T: Config> AccessGrant<T> {
	/// Whether the grant gives access at block `now`.
	pub fn is_valid(&self, now: BlockNumberFor<T>) -> bool {
		now < self.expires_at && self.uses_left != Uses::Limited(0)
	}
}

/// What one purchase did: the grant it left and how the price was split.
#[derive(CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound)]
pub struct Purchase<T: Config> {
	pub grant: AccessGrant<T>,
	/// Paid to the model's owner (`OwnerShare` of the price, rounded down).
	pub owner_share: BalanceOf<T>,
	/// Paid to the treasury: the rest of the price.
	pub treasury_share: BalanceOf<T>,
}
