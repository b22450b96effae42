// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @dev The pinning incentives precompile: pallet-revive `AddressMatcher::Fixed(0x0C03)`.
address constant PINNING_INCENTIVES_ADDRESS = 0x000000000000000000000000000000000c030000;

/// @title Citrate pinning incentives precompile
/// @notice Report that you pin a registered model's weights on IPFS, and check from any
///         contract whether a pinner proved it holds them.
/// @dev Lives at 0x000000000000000000000000000000000c030000
///      (pallet-revive `AddressMatcher::Fixed(0x0C03)`: the u16 sits in bytes 16..18).
///      Pinners register (with a bond and the proof key their node signs with) through the
///      pinning pallet's `register_pinner` extrinsic; each era the runtime challenges every
///      pin at random byte offsets and the pinner's node answers with the blocks on the
///      paths to them, which the runtime checks against the CID. CIDs are text (`Qm…`,
///      `bafy…`); a CIDv0 and its CIDv1 name the same pin. A pallet error reverts with
///      "Pinning.<function>: <Error>", e.g. "Pinning.reportPinning: ModelNotRegistered".
interface IPinningIncentives {
	/// What the chain knows about one pinner's pin of one file.
	struct Pinning {
		/// False when `pinner` does not pin the file; then every other field is zero.
		bool pinned;
		/// File size the pinner reported, in bytes.
		uint64 size;
		/// The era of the pinner's latest answer (0: never answered).
		uint32 lastAnsweredEra;
		/// True when the latest answer verified and it answers the current or the previous
		/// era's challenge: the pinner held the file recently.
		bool verified;
	}

	/// `pinner` reported a pin of `cid`; it is challenged from era `sinceEra` on.
	event PinReported(address indexed pinner, string cid, uint64 size, uint32 sinceEra);
	/// `pinner` stopped pinning `cid`.
	event PinRemoved(address indexed pinner, string cid);

	/// Reports that the caller, a registered pinner, pins `cid` (the root CID of a registered,
	/// active model: its package directory or single file) whose files hold `size` bytes, the
	/// size the registry records for it (else "Pinning.reportPinning: SizeMismatch").
	function reportPinning(string calldata cid, uint64 size) external;

	/// Stops pinning `cid`; the current era's reward for it is forfeited.
	function removePinning(string calldata cid) external;

	/// Whether `pinner` pins `cid` and proved it recently.
	function verifyPinning(string calldata cid, address pinner) external view returns (Pinning memory);

	/// Every pinner of `cid`.
	function pinnersOf(string calldata cid) external view returns (address[] memory);

	/// The current era and the block it began at.
	function currentEra() external view returns (uint32 era, uint64 startBlock);
}
