// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {InferenceConsumer} from "../InferenceConsumer.sol";
import {IInference} from "../interfaces/IInference.sol";
import {TensorCodec} from "../TensorCodec.sol";

/// @title LabelledImages
/// @notice An ERC-721 collection whose tokens are labelled by an image classifier on Citrate:
///         `mint(image)` sends the image (PNG or JPEG) to the model, and the token is minted to
///         the sender when the result arrives, carrying the label the model gave it, its score
///         and the image's hash. The label and the proof of inference are on chain; anyone can
///         check them with `INFERENCE.receipt(requestId)`.
/// @dev Label ids index the model's label list (ImageNet-1k for an ImageNet classifier). A
///      failed or expired classification mints nothing (`MintFailed`).
contract LabelledImages is ERC721, InferenceConsumer {
    using Strings for uint256;

    struct Label {
        /// The class the model ranked first.
        uint32 classId;
        /// Its score in wad (1e18 = probability 1).
        uint256 score;
        /// keccak256 of the image.
        bytes32 imageHash;
        /// The request whose receipt proves the label.
        uint64 requestId;
    }

    struct PendingMint {
        address to;
        bytes32 imageHash;
    }

    /// The image classification model.
    uint64 public immutable classifier;
    /// Gas the result callback may use.
    uint64 public immutable callbackGas;
    /// Tokens minted so far; token ids start at 1.
    uint256 public totalSupply;
    /// Each token's label.
    mapping(uint256 => Label) public labelOf;
    /// Mints waiting for their classification, by request id.
    mapping(uint64 => PendingMint) public pending;

    /// `to` asked to mint `imageHash`; the classifier is looking at it.
    event MintRequested(uint64 indexed requestId, address indexed to, bytes32 imageHash);
    /// Token `tokenId` was minted with class `classId` (score in wad).
    event Labelled(uint256 indexed tokenId, uint64 indexed requestId, uint32 classId, uint256 score);
    /// The classification failed or expired: nothing was minted.
    event MintFailed(uint64 indexed requestId, address indexed to, string reason);

    constructor(uint64 model, uint64 gas) ERC721("Citrate Labelled Images", "CLIMG") {
        classifier = model;
        callbackGas = gas;
    }

    /// What `mint(image)` costs for an image of `imageLength` bytes.
    function fee(uint256 imageLength) external view returns (uint256) {
        return _inferenceFee(classifier, TensorCodec.imageInput(new bytes(imageLength)).length, callbackGas);
    }

    /// Classifies `image` and mints its token to the sender when the label is final.
    function mint(bytes calldata image) external payable returns (uint64 requestId) {
        requestId = _requestInference(classifier, TensorCodec.imageInput(image), callbackGas, "");
        bytes32 imageHash = keccak256(image);
        pending[requestId] = PendingMint(msg.sender, imageHash);
        emit MintRequested(requestId, msg.sender, imageHash);
    }

    /// JSON metadata with the label as attributes, as a data URI.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        Label memory label = labelOf[tokenId];
        bytes memory json = abi.encodePacked(
            '{"name":"Labelled image #', tokenId.toString(),
            '","description":"Labelled on Citrate by model ', uint256(classifier).toString(),
            ', request ', uint256(label.requestId).toString(),
            '","attributes":[{"trait_type":"class","value":', uint256(label.classId).toString(),
            '},{"trait_type":"score (ppm)","value":', (label.score / 1e12).toString(),
            '}],"image_hash":"', uint256(label.imageHash).toHexString(32), '"}'
        );
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    function _onInferenceOutput(uint64 requestId, bytes calldata output, bytes calldata) internal override {
        PendingMint memory request = pending[requestId];
        delete pending[requestId];
        (uint32 classId, uint256 score) = TensorCodec.topLabel(output, 0);
        uint256 tokenId = ++totalSupply;
        labelOf[tokenId] = Label(classId, score, request.imageHash, requestId);
        // `_mint`, not `_safeMint`: a receiver that refused would make the callback revert and lose
        // the label.
        _mint(request.to, tokenId);
        emit Labelled(tokenId, requestId, classId, score);
    }

    function _onInferenceFailure(uint64 requestId, IInference.ResultKind kind, bytes calldata reason, bytes calldata)
        internal
        override
    {
        PendingMint memory request = pending[requestId];
        delete pending[requestId];
        emit MintFailed(requestId, request.to, kind == IInference.ResultKind.Expired ? "no answer" : string(reason));
    }
}
