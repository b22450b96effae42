// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IModelRegistry, MODEL_REGISTRY_ADDRESS} from "./interfaces/IModelRegistry.sol";
import {IModelAccess, MODEL_ACCESS_ADDRESS} from "./interfaces/IModelAccess.sol";

/// @title ModelMarketplace
/// @notice An example dapp on Citrate's model precompiles. The operator lists a model the
///         contract owns and puts one access tier on sale; users buy access from the
///         IModelAccess precompile (90 % of the price comes to this contract, 10 % to the
///         treasury) and then call `runInference`, which only serves users with access.
/// @dev Deploy with some CTR as value: the registry and the tier hold storage deposits from
///      the contract's balance, since the contract is the model's owner.
contract ModelMarketplace {
    IModelRegistry public constant REGISTRY = IModelRegistry(MODEL_REGISTRY_ADDRESS);
    IModelAccess public constant ACCESS = IModelAccess(MODEL_ACCESS_ADDRESS);

    /// The account that deployed the marketplace and may list and withdraw.
    address public immutable operator;
    /// The listed model; 0 until `listModel`.
    uint64 public modelId;
    /// Requests served per user.
    mapping(address => uint256) public requestsServed;

    /// The marketplace registered `modelId` and put tier 0 on sale at `price`.
    event ModelListed(uint64 indexed modelId, string name, uint256 price);
    /// A user with access sent a request.
    event RequestServed(uint64 indexed modelId, address indexed user, bytes32 inputHash, uint256 total);

    modifier onlyOperator() {
        require(msg.sender == operator, "ModelMarketplace: only the operator");
        _;
    }

    constructor() payable {
        operator = msg.sender;
    }

    /// Registers a model owned by this contract and sells tier 0: `price` wei for
    /// `durationBlocks` blocks and `maxUses` requests (0 = unlimited).
    function listModel(
        string calldata name,
        string calldata cid,
        uint64 sizeBytes,
        uint256 price,
        uint64 durationBlocks,
        uint32 maxUses
    ) external onlyOperator returns (uint64) {
        require(modelId == 0, "ModelMarketplace: already listed");
        modelId = REGISTRY.registerModel(
            name,
            cid,
            IModelRegistry.ModelType.Embedding,
            IModelRegistry.Framework.Onnx,
            sizeBytes,
            IModelRegistry.LicenseKind.Commercial,
            "LicenseRef-ModelMarketplace"
        );
        ACCESS.setTier(modelId, 0, price, durationBlocks, maxUses);
        emit ModelListed(modelId, name, price);
        return modelId;
    }

    /// Serves a request from a user who bought access (or owns the model).
    /// @return total The requests served to the caller so far.
    function runInference(bytes calldata input) external returns (uint256 total) {
        require(ACCESS.hasAccess(msg.sender, modelId), "ModelMarketplace: no access to the model");
        total = ++requestsServed[msg.sender];
        emit RequestServed(modelId, msg.sender, keccak256(input), total);
    }

    /// Sends earned CTR to `to`.
    function withdraw(address payable to, uint256 amount) external onlyOperator {
        (bool sent,) = to.call{value: amount}("");
        require(sent, "ModelMarketplace: transfer failed");
    }
}
