// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title RequestCounter
/// @notice Tallies inference requests per model id. The smallest contract that exercises
///         what Citrate contracts rely on: constructor arguments, storage, mappings, events,
///         `msg.sender` and return values, running as EVM bytecode on pallet-revive.
contract RequestCounter {
    /// A label chosen at deployment.
    string public label;
    /// Requests recorded per model id.
    mapping(uint64 => uint256) public requests;
    /// The account that made the latest request.
    address public lastCaller;

    /// Emitted for every recorded request.
    event Requested(uint64 indexed modelId, address indexed caller, uint256 total);

    constructor(string memory initialLabel) {
        label = initialLabel;
    }

    /// @notice Records one request for `modelId` and returns the model's new total.
    function request(uint64 modelId) external returns (uint256 total) {
        total = ++requests[modelId];
        lastCaller = msg.sender;
        emit Requested(modelId, msg.sender, total);
    }
}
