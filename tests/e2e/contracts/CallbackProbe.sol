// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {InferenceConsumer} from "../../../contracts/InferenceConsumer.sol";
import {IInference} from "../../../contracts/interfaces/IInference.sol";

/// A consumer whose callback behaves as told, for the end-to-end tests of callback delivery:
/// it records what it received, reverts, or burns all its gas.
contract CallbackProbe is InferenceConsumer {
    enum Mode {
        Record,
        Revert,
        Burn
    }

    Mode public mode;
    uint256 public calls;
    uint64 public lastRequest;
    IInference.ResultKind public lastKind;
    bytes32 public lastOutputHash;
    bytes public lastData;

    event Recorded(uint64 indexed requestId, IInference.ResultKind kind, bytes32 outputHash);

    function setMode(Mode m) external {
        mode = m;
    }

    function request(uint64 modelId, bytes calldata input, uint64 callbackGas, bytes calldata data)
        external
        payable
        returns (uint64)
    {
        return _requestInference(modelId, input, callbackGas, data);
    }

    /// Requests paying `value` from the contract's balance, bypassing the estimate check.
    function requestPaying(uint64 modelId, bytes calldata input, uint64 callbackGas, uint256 value)
        external
        returns (uint64)
    {
        return INFERENCE.requestInference{value: value}(modelId, input, callbackGas, "");
    }

    function cancel(uint64 requestId) external {
        INFERENCE.cancelRequest(requestId);
    }

    receive() external payable {}

    function _onInferenceOutput(uint64 requestId, bytes calldata, bytes calldata data) internal override {
        _handle(requestId, IInference.ResultKind.Output, data);
    }

    function _onInferenceFailure(uint64 requestId, IInference.ResultKind kind, bytes calldata, bytes calldata data)
        internal
        override
    {
        _handle(requestId, kind, data);
    }

    function _handle(uint64 requestId, IInference.ResultKind kind, bytes calldata data) private {
        if (mode == Mode.Revert) revert("probe reverts");
        if (mode == Mode.Burn) {
            uint256 i;
            while (true) {
                i++;
            }
        }
        calls++;
        lastRequest = requestId;
        lastKind = kind;
        (, , bytes32 outputHash) = INFERENCE.result(requestId);
        lastOutputHash = outputHash;
        lastData = data;
        emit Recorded(requestId, kind, outputHash);
    }
}
