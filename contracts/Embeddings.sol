// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {TensorCodec} from "./TensorCodec.sol";

/// @title Embeddings
/// @notice Sentence embeddings in contract storage: the `embeddings` output of a
///         feature-extraction model as fixed-point int16 (value × 1e4, sixteen to a storage
///         slot, so a 384-dimension embedding takes 24 slots) and cosine similarity between two
///         of them. A resolution of 1e-4 on unit vectors keeps cosine similarities within about
///         1e-3 of the float ones, enough to rank and to threshold.
library Embeddings {
    /// Fixed-point scale: 1e4 is 1.0.
    uint256 internal constant SCALE = 1e4;

    /// A value of the model's output does not fit int16 at `SCALE` (embeddings of sentence
    /// models are unit vectors, so this is not one).
    error EmbeddingOutOfRange(int256 value);

    /// Row `row` of the `embeddings` output in `output` as int16 × 1e4.
    function fromOutput(bytes memory output, uint256 row) internal pure returns (int16[] memory embedding) {
        int256[] memory values = TensorCodec.embedding(output, row, SCALE);
        embedding = new int16[](values.length);
        for (uint256 i = 0; i < values.length; i++) {
            if (values[i] > type(int16).max || values[i] < type(int16).min) revert EmbeddingOutOfRange(values[i]);
            embedding[i] = int16(values[i]);
        }
    }

    /// Cosine similarity of `a` and `b` × 1e18 (1e18: same direction; 0 when either is zero).
    function cosine(int16[] memory a, int16[] memory b) internal pure returns (int256) {
        int256 dot;
        int256 aa;
        int256 bb;
        uint256 n = a.length < b.length ? a.length : b.length;
        for (uint256 i = 0; i < n; i++) {
            int256 x = a[i];
            int256 y = b[i];
            dot += x * y;
            aa += x * x;
            bb += y * y;
        }
        if (aa == 0 || bb == 0) return 0;
        return dot * 1e18 / int256(_sqrt(uint256(aa) * uint256(bb)));
    }

    /// Integer square root (Babylonian), rounded down.
    function _sqrt(uint256 x) private pure returns (uint256 y) {
        if (x == 0) return 0;
        y = x;
        uint256 z = (x + 1) / 2;
        while (z < y) {
            y = z;
            z = (x / z + z) / 2;
        }
    }
}
