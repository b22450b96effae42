// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IInference, IInferenceConsumer, INFERENCE_ADDRESS} from "./interfaces/IInference.sol";

/// @title InferenceConsumer
/// @notice Base for contracts that run Citrate models: sends requests to the IInference
///         precompile and receives their results. Inherit it, request with
///         `_requestInference`, and implement `_onInferenceOutput` (and, if the contract cares,
///         `_onInferenceFailure`).
/// @dev `onInferenceResult` only accepts calls from the precompile's address, which the chain
///      uses for every callback, so a result cannot be forged by another caller. A callback runs
///      in a later block than the request, with at most the gas the request named; if it reverts
///      or runs out of gas the chain records that and the result stays readable with
///      `INFERENCE.result(requestId)`.
abstract contract InferenceConsumer is IInferenceConsumer {
    /// The IInference precompile.
    IInference internal constant INFERENCE = IInference(INFERENCE_ADDRESS);

    /// `onInferenceResult` was called by `caller`, not the IInference precompile.
    error NotInference(address caller);
    /// The call sent `sent` wei; the request needs `required`.
    error FeeTooLow(uint256 required, uint256 sent);
    /// Returning the unneeded part of `msg.value` to the caller failed.
    error RefundFailed();

    /// @inheritdoc IInferenceConsumer
    function onInferenceResult(
        uint256 requestId,
        IInference.ResultKind kind,
        bytes calldata output,
        bytes32 outputHash,
        bytes calldata callbackData
    ) external override {
        if (msg.sender != INFERENCE_ADDRESS) revert NotInference(msg.sender);
        uint64 id = uint64(requestId);
        if (kind == IInference.ResultKind.Output) {
            _onInferenceOutput(id, output, callbackData);
        } else if (kind == IInference.ResultKind.Stored) {
            _onInferenceStored(id, output, outputHash, callbackData);
        } else {
            _onInferenceFailure(id, kind, output, callbackData);
        }
    }

    /// Sends a request for `modelId` on `input` (tensor codec bytes, see `TensorCodec`) paid by
    /// the caller's `msg.value`: it must cover the fee, and the rest goes back to the caller.
    /// `callbackGas` is the gas `onInferenceResult` may use (0: no callback).
    function _requestInference(uint64 modelId, bytes memory input, uint64 callbackGas, bytes memory callbackData)
        internal
        returns (uint64 requestId)
    {
        uint256 fee = INFERENCE.estimateFee(modelId, uint32(input.length), callbackGas);
        if (msg.value < fee) revert FeeTooLow(fee, msg.value);
        requestId = INFERENCE.requestInference{value: fee}(modelId, input, callbackGas, callbackData);
        if (msg.value > fee) {
            (bool ok,) = payable(msg.sender).call{value: msg.value - fee}("");
            if (!ok) revert RefundFailed();
        }
    }

    /// What a request costs now: pass it as `msg.value` (the estimate can only rise when the
    /// model's price or providers change).
    function _inferenceFee(uint64 modelId, uint256 inputLength, uint64 callbackGas) internal view returns (uint256) {
        return INFERENCE.estimateFee(modelId, uint32(inputLength), callbackGas);
    }

    /// A final result with an inline `output` (tensor codec bytes).
    function _onInferenceOutput(uint64 requestId, bytes calldata output, bytes calldata callbackData) internal virtual;

    /// A final result too large for the chain: `cid` is the binary CID of the IPFS file holding
    /// it. By default treated as a failure.
    function _onInferenceStored(uint64 requestId, bytes calldata cid, bytes32 outputHash, bytes calldata callbackData)
        internal
        virtual
    {
        outputHash;
        _onInferenceFailure(requestId, IInference.ResultKind.Stored, cid, callbackData);
    }

    /// No usable output: `kind` is `Failed` (the model cannot run on this input; `reason` says
    /// why, UTF-8), `Expired` (no provider answered in time; the fees came back to this
    /// contract) or `Stored` (see `_onInferenceStored`). By default nothing happens.
    function _onInferenceFailure(
        uint64 requestId,
        IInference.ResultKind kind,
        bytes calldata reason,
        bytes calldata callbackData
    ) internal virtual {}
}
