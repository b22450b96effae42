// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title TensorCodec
/// @notice Citrate's tensor codec ("CTEN" version 1) for contracts: builds the inputs of
///         inference requests and reads the outputs that results carry.
/// @dev Layout (integers little-endian): "CTEN", version u8 = 1, tensor count u8, then per
///      tensor: name length u8, UTF-8 name, dtype u8, rank u8, rank × u32 dims, data.
///      Outputs by task (see the Citrate docs):
///      - text classification, image classification: `label_ids` i64 [rows, k] and `scores`
///        f32 [rows, k], best first; ids index the model's label list (ImageNet-1k for an
///        ImageNet classifier, `id2label` of the model's config otherwise);
///      - feature extraction: `embeddings` f32 [rows, dims];
///      - text generation, speech-to-text, OCR: `text` u8 [bytes], UTF-8.
///      Floats come back as fixed-point integers (`value × scale`, truncated toward zero), so
///      contracts compare and sum them exactly.
library TensorCodec {
    uint8 internal constant F32 = 0;
    uint8 internal constant U8 = 5;
    uint8 internal constant I32 = 7;
    uint8 internal constant I64 = 8;

    /// Scale of scores: 1e18 is a probability of 1 (a "wad").
    uint256 internal constant WAD = 1e18;

    /// The bytes are not a CTEN version 1 payload: `offset` is where reading failed.
    error MalformedTensors(uint256 offset);
    /// The payload has no tensor called `name`.
    error MissingTensor(string name);
    /// Tensor `name` has dtype `dtype` or rank `rank`, not what the reader expects.
    error UnexpectedTensor(string name, uint8 dtype, uint256 rank);
    /// Row `row` is past the tensor's `rows`.
    error RowOutOfRange(uint256 row, uint256 rows);
    /// An f32 that is infinite or NaN has no fixed-point value.
    error NotFinite(uint32 bits);

    /// Where one tensor sits in a payload.
    struct TensorView {
        uint8 dtype;
        uint32[] shape;
        /// Offset of the first data byte in the payload.
        uint256 data;
        /// Number of data bytes.
        uint256 length;
    }

    // ---------------------------------------------------------------- inputs

    /// A payload of one u8 tensor `name` holding `data` (a UTF-8 text, a PNG or JPEG file, a WAV).
    function bytesInput(string memory name, bytes memory data) internal pure returns (bytes memory) {
        return bytes.concat(_header(1), _u8Tensor(name, data));
    }

    /// The input of a text task (feature extraction, text classification): one `text`.
    function textInput(string memory text) internal pure returns (bytes memory) {
        return bytesInput("text", bytes(text));
    }

    /// The input of an image task (image classification, OCR): `image`, a PNG or JPEG file.
    function imageInput(bytes memory image) internal pure returns (bytes memory) {
        return bytesInput("image", image);
    }

    /// The input of text generation: `prompt`, at most `maxTokens` new tokens, greedy decoding
    /// (the same prompt always gives the same text).
    function promptInput(string memory prompt, uint32 maxTokens) internal pure returns (bytes memory) {
        return bytes.concat(
            _header(2),
            _u8Tensor("prompt", bytes(prompt)),
            // A scalar: rank 0, four bytes.
            abi.encodePacked(uint8(10), "max_tokens", I32, uint8(0), _u32le(maxTokens))
        );
    }

    // ---------------------------------------------------------------- outputs

    /// Finds tensor `name` in `payload`; reverts if the payload is malformed or lacks it.
    function find(bytes memory payload, string memory name) internal pure returns (TensorView memory view_) {
        if (payload.length < 6 || bytes4(_slice4(payload, 0)) != bytes4("CTEN") || uint8(payload[4]) != 1) {
            revert MalformedTensors(0);
        }
        uint256 count = uint8(payload[5]);
        uint256 at = 6;
        bytes32 wanted = keccak256(bytes(name));
        for (uint256 t = 0; t < count; t++) {
            if (at >= payload.length) revert MalformedTensors(at);
            uint256 nameLength = uint8(payload[at]);
            uint256 nameAt = at + 1;
            at = nameAt + nameLength;
            if (at + 2 > payload.length) revert MalformedTensors(at);
            uint8 dtype = uint8(payload[at]);
            uint256 rank = uint8(payload[at + 1]);
            at += 2;
            if (dtype > 9 || rank > 8 || at + 4 * rank > payload.length) revert MalformedTensors(at);
            uint32[] memory shape = new uint32[](rank);
            uint256 elements = 1;
            for (uint256 d = 0; d < rank; d++) {
                shape[d] = _readU32(payload, at + 4 * d);
                elements *= shape[d];
            }
            at += 4 * rank;
            uint256 length = elements * _elementBytes(dtype);
            if (at + length > payload.length) revert MalformedTensors(at);
            if (_hashRange(payload, nameAt, nameLength) == wanted) {
                return TensorView(dtype, shape, at, length);
            }
            at += length;
        }
        revert MissingTensor(name);
    }

    /// The `text` output (text generation, speech-to-text, OCR).
    function text(bytes memory payload) internal pure returns (string memory) {
        TensorView memory t = find(payload, "text");
        if (t.dtype != U8 || t.shape.length != 1) revert UnexpectedTensor("text", t.dtype, t.shape.length);
        return string(_copy(payload, t.data, t.length));
    }

    /// Row `row` of a classification output: label ids, best first, and their scores in wad
    /// (1e18 = probability 1).
    function labels(bytes memory payload, uint256 row)
        internal
        pure
        returns (uint32[] memory ids, uint256[] memory scores)
    {
        TensorView memory idsView = find(payload, "label_ids");
        TensorView memory scoresView = find(payload, "scores");
        if (idsView.dtype != I64 || idsView.shape.length != 2) {
            revert UnexpectedTensor("label_ids", idsView.dtype, idsView.shape.length);
        }
        if (scoresView.dtype != F32 || scoresView.shape.length != 2) {
            revert UnexpectedTensor("scores", scoresView.dtype, scoresView.shape.length);
        }
        if (row >= idsView.shape[0]) revert RowOutOfRange(row, idsView.shape[0]);
        uint256 k = idsView.shape[1];
        ids = new uint32[](k);
        scores = new uint256[](k);
        for (uint256 i = 0; i < k; i++) {
            uint256 index = row * k + i;
            ids[i] = _readU32(payload, idsView.data + 8 * index);
            int256 score = f32ToFixed(_readU32(payload, scoresView.data + 4 * index), WAD);
            scores[i] = score < 0 ? 0 : uint256(score);
        }
    }

    /// The best label of row `row` and its score in wad.
    function topLabel(bytes memory payload, uint256 row) internal pure returns (uint32 id, uint256 score) {
        (uint32[] memory ids, uint256[] memory scores) = labels(payload, row);
        if (ids.length == 0) revert RowOutOfRange(0, 0);
        return (ids[0], scores[0]);
    }

    /// Row `row` of an `embeddings` output as fixed-point integers: each value × `scale`.
    function embedding(bytes memory payload, uint256 row, uint256 scale) internal pure returns (int256[] memory values) {
        TensorView memory t = find(payload, "embeddings");
        if (t.dtype != F32 || t.shape.length != 2) revert UnexpectedTensor("embeddings", t.dtype, t.shape.length);
        if (row >= t.shape[0]) revert RowOutOfRange(row, t.shape[0]);
        uint256 dims = t.shape[1];
        values = new int256[](dims);
        uint256 start = t.data + 4 * row * dims;
        for (uint256 i = 0; i < dims; i++) {
            values[i] = f32ToFixed(_readU32(payload, start + 4 * i), scale);
        }
    }

    /// An IEEE-754 single (`bits`) times `scale`, truncated toward zero.
    function f32ToFixed(uint32 bits, uint256 scale) internal pure returns (int256) {
        uint256 exponent = (bits >> 23) & 0xff;
        if (exponent == 0xff) revert NotFinite(bits);
        uint256 mantissa = bits & 0x7fffff;
        // value = mantissa × 2^(exponent − 150), with the implicit bit for normal numbers;
        // subnormals (exponent 0) are mantissa × 2^−149.
        uint256 magnitude;
        if (exponent == 0) {
            magnitude = (mantissa * scale) >> 149;
        } else {
            mantissa |= 0x800000;
            magnitude = exponent >= 150
                ? (mantissa * scale) << (exponent - 150)
                : (mantissa * scale) >> (150 - exponent);
        }
        int256 value = int256(magnitude);
        return bits >> 31 == 1 ? -value : value;
    }

    // ---------------------------------------------------------------- internals

    function _header(uint8 count) private pure returns (bytes memory) {
        return abi.encodePacked("CTEN", uint8(1), count);
    }

    function _u8Tensor(string memory name, bytes memory data) private pure returns (bytes memory) {
        return abi.encodePacked(uint8(bytes(name).length), name, U8, uint8(1), _u32le(uint32(data.length)), data);
    }

    function _u32le(uint32 v) private pure returns (bytes4) {
        return bytes4(uint32(
            (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | ((v << 24) & 0xff000000)
        ));
    }

    function _elementBytes(uint8 dtype) private pure returns (uint256) {
        // f32 f16 bf16 f64 i8 u8 i16 i32 i64 bool
        return uint8(bytes10(0x04020208010102040801)[dtype]);
    }

    /// Little-endian u32 at `at` (the caller checked the bounds).
    function _readU32(bytes memory payload, uint256 at) private pure returns (uint32 value) {
        assembly ("memory-safe") {
            let b := shr(224, mload(add(add(payload, 32), at)))
            value := or(
                or(shl(24, and(b, 0xff)), shl(8, and(b, 0xff00))),
                or(and(shr(8, b), 0xff00), shr(24, b))
            )
        }
    }

    function _slice4(bytes memory payload, uint256 at) private pure returns (bytes4 word) {
        assembly ("memory-safe") {
            word := mload(add(add(payload, 32), at))
        }
    }

    function _hashRange(bytes memory payload, uint256 at, uint256 length) private pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            hash := keccak256(add(add(payload, 32), at), length)
        }
    }

    function _copy(bytes memory payload, uint256 at, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        assembly ("memory-safe") {
            mcopy(add(out, 32), add(add(payload, 32), at), length)
        }
    }
}
