// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Embeddings} from "../../../contracts/Embeddings.sol";
import {TensorCodec} from "../../../contracts/TensorCodec.sol";

/// The Solidity kit's codec functions as external calls, so the end-to-end tests check them
/// against real model outputs read from the chain.
contract CodecHarness {
    function text(bytes calldata payload) external pure returns (string memory) {
        return TensorCodec.text(payload);
    }

    function labels(bytes calldata payload, uint256 row) external pure returns (uint32[] memory, uint256[] memory) {
        return TensorCodec.labels(payload, row);
    }

    function embedding(bytes calldata payload, uint256 row, uint256 scale) external pure returns (int256[] memory) {
        return TensorCodec.embedding(payload, row, scale);
    }

    function cosine(int16[] calldata a, int16[] calldata b) external pure returns (int256) {
        return Embeddings.cosine(a, b);
    }

    function textInput(string calldata t) external pure returns (bytes memory) {
        return TensorCodec.textInput(t);
    }

    function imageInput(bytes calldata image) external pure returns (bytes memory) {
        return TensorCodec.imageInput(image);
    }

    function promptInput(string calldata prompt, uint32 maxTokens) external pure returns (bytes memory) {
        return TensorCodec.promptInput(prompt, maxTokens);
    }
}
