// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @dev The model access precompile: pallet-revive `AddressMatcher::Fixed(0x0C02)`.
address constant MODEL_ACCESS_ADDRESS = 0x000000000000000000000000000000000c020000;

/// @title Citrate model access precompile
/// @notice Sell access to a model in tiers, buy it with CTR, check it from any contract.
/// @dev Lives at 0x000000000000000000000000000000000c020000
///      (pallet-revive `AddressMatcher::Fixed(0x0C02)`: the u16 sits in bytes 16..18).
///      A purchase pays 90 % of the price to the model owner and 10 % to the treasury
///      (the owner gets the floor of its share, so nothing is lost to rounding).
///      Every state change emits a log; a pallet error reverts with
///      "ModelAccess.<function>: <Error>", e.g. "ModelAccess.purchaseAccess: TierNotFound".
interface IModelAccess {
	/// What `user` bought for a model.
	struct Access {
		/// False when nothing was ever bought; then every other field is zero.
		bool exists;
		/// The tier of the latest purchase.
		uint32 tierId;
		/// First block number at which the access no longer holds.
		uint64 expiresAt;
		/// True when the uses are unlimited; `usesLeft` is then 0.
		bool unlimitedUses;
		uint32 usesLeft;
	}

	/// A tier was created or its terms changed.
	event TierSet(uint64 indexed modelId, uint32 indexed tierId, uint256 price, uint64 duration, uint32 maxUses);
	/// A tier was retired; access already bought stays valid.
	event TierRetired(uint64 indexed modelId, uint32 indexed tierId);
	/// `buyer` bought `tierId`: `ownerShare` went to the owner, `treasuryShare` to the treasury.
	event AccessPurchased(
		uint64 indexed modelId,
		address indexed buyer,
		uint32 indexed tierId,
		uint256 ownerShare,
		uint256 treasuryShare,
		uint64 expiresAt
	);

	/// Creates tier `tierId` (0..7) of a model the caller owns, or changes its terms. One
	/// purchase buys `duration` blocks and `maxUses` uses (0 = unlimited) for `price` wei.
	/// Creating a tier holds a deposit from the caller.
	function setTier(uint64 modelId, uint32 tierId, uint256 price, uint64 duration, uint32 maxUses) external;

	/// Stops selling a tier of a model the caller owns and releases its deposit.
	function retireTier(uint64 modelId, uint32 tierId) external;

	/// Buys `tierId` of `modelId` for the caller. `msg.value` must equal the tier's price.
	/// Buying again adds the tier's duration to the current expiry.
	function purchaseAccess(uint64 modelId, uint32 tierId) external payable;

	/// Whether `user` may use `modelId` now: its owner, a holder of valid access, or anyone
	/// for an open-source model with no tiers for sale.
	function hasAccess(address user, uint64 modelId) external view returns (bool);

	/// What `user` bought for `modelId`, valid or not.
	function accessOf(address user, uint64 modelId) external view returns (Access memory);

	/// The terms of a tier; `exists` is false when the tier is not for sale.
	function getTier(uint64 modelId, uint32 tierId)
		external
		view
		returns (bool exists, uint256 price, uint64 duration, uint32 maxUses);
}
