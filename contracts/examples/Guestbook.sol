// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Embeddings} from "../Embeddings.sol";
import {InferenceConsumer} from "../InferenceConsumer.sol";
import {IInference} from "../interfaces/IInference.sol";
import {TensorCodec} from "../TensorCodec.sol";

/// @title Guestbook
/// @notice A guestbook moderated by a text model on Citrate. Its owner gives examples of what
///         is not welcome (abuse, spam…); a sentence-embedding model embeds each, and each
///         message the same way. A message whose meaning is close to an example (cosine
///         similarity at or above `threshold`) is flagged and not published; the others are.
///         Authors pay the inference with their message.
/// @dev Moderation by semantic similarity catches paraphrases of the examples, not whatever a
///      moderator would reject: the examples are the policy. Messages are one line of at most
///      `MAX_MESSAGE` bytes.
contract Guestbook is InferenceConsumer {
    enum State {
        None,
        Pending,
        Published,
        Flagged,
        Failed
    }

    struct Entry {
        address author;
        State state;
        string message;
        /// Highest similarity to a blocked example × 1e18, and which example.
        int256 similarity;
        uint256 closestExample;
    }

    uint256 public constant MAX_MESSAGE = 280;
    uint256 public constant MAX_EXAMPLES = 16;

    /// The sentence-embedding model that reads messages.
    uint64 public immutable moderationModel;
    /// Gas each result callback may use.
    uint64 public immutable callbackGas;
    /// Cosine similarity × 1e18 from which a message is flagged.
    int256 public immutable threshold;
    /// Who adds blocked examples.
    address public immutable owner;

    /// Entries by request id.
    mapping(uint64 => Entry) public entries;
    /// Request ids of the published entries, oldest first.
    uint64[] public published;
    /// Blocked examples' texts and embeddings.
    string[] public exampleTexts;
    int16[][] internal exampleEmbeddings;
    /// Example texts waiting for their embeddings, by request id.
    mapping(uint64 => string) internal pendingExamples;

    event ExampleSubmitted(uint64 indexed requestId, string text);
    event ExampleAdded(uint64 indexed requestId, uint256 index);
    /// `author` signed; the model is reading the message.
    event Submitted(uint64 indexed requestId, address indexed author, string message);
    /// The message is in the guestbook.
    event Published(uint64 indexed requestId, address indexed author, uint256 index);
    /// The message is too close to blocked example `example` (`similarity` × 1e18).
    event Flagged(uint64 indexed requestId, address indexed author, uint256 example, int256 similarity);
    /// The model failed on the request or did not answer in time.
    event Failed(uint64 indexed requestId, string reason);

    error NotOwner();
    error TooManyExamples();
    error EmptyMessage();
    error MessageTooLong(uint256 length);
    error MultilineMessage();

    enum Kind {
        Example,
        Message
    }

    constructor(uint64 model, uint64 gas, int256 flagThreshold) {
        moderationModel = model;
        callbackGas = gas;
        threshold = flagThreshold;
        owner = msg.sender;
    }

    /// What `sign(message)` or `addBlockedExample(message)` costs (send it as `msg.value`; any
    /// excess comes back).
    function fee(string calldata message) external view returns (uint256) {
        return _inferenceFee(moderationModel, TensorCodec.textInput(message).length, callbackGas);
    }

    /// Adds an example of an unwelcome message (owner only); it applies once embedded.
    function addBlockedExample(string calldata text) external payable returns (uint64 requestId) {
        if (msg.sender != owner) revert NotOwner();
        if (exampleTexts.length >= MAX_EXAMPLES) revert TooManyExamples();
        requestId = _embed(text, Kind.Example);
        pendingExamples[requestId] = text;
        emit ExampleSubmitted(requestId, text);
    }

    /// Submits `message`; it is published (or flagged) in the block after the model's answer.
    function sign(string calldata message) external payable returns (uint64 requestId) {
        requestId = _embed(message, Kind.Message);
        entries[requestId] = Entry(msg.sender, State.Pending, message, 0, 0);
        emit Submitted(requestId, msg.sender, message);
    }

    function publishedCount() external view returns (uint256) {
        return published.length;
    }

    function exampleCount() external view returns (uint256) {
        return exampleTexts.length;
    }

    function _embed(string calldata text, Kind kind) private returns (uint64) {
        bytes memory b = bytes(text);
        if (b.length == 0) revert EmptyMessage();
        if (b.length > MAX_MESSAGE) revert MessageTooLong(b.length);
        for (uint256 i = 0; i < b.length; i++) {
            if (b[i] == "\n" || b[i] == "\r") revert MultilineMessage();
        }
        return _requestInference(moderationModel, TensorCodec.textInput(text), callbackGas, abi.encode(kind));
    }

    function _onInferenceOutput(uint64 requestId, bytes calldata output, bytes calldata callbackData) internal override {
        int16[] memory embedding = Embeddings.fromOutput(output, 0);
        if (abi.decode(callbackData, (Kind)) == Kind.Example) {
            exampleTexts.push(pendingExamples[requestId]);
            exampleEmbeddings.push(embedding);
            delete pendingExamples[requestId];
            emit ExampleAdded(requestId, exampleTexts.length - 1);
            return;
        }
        Entry storage entry = entries[requestId];
        int256 best = type(int256).min;
        for (uint256 i = 0; i < exampleEmbeddings.length; i++) {
            int256 similarity = Embeddings.cosine(embedding, exampleEmbeddings[i]);
            if (similarity > best) {
                best = similarity;
                entry.closestExample = i;
            }
        }
        entry.similarity = best;
        if (best >= threshold) {
            entry.state = State.Flagged;
            emit Flagged(requestId, entry.author, entry.closestExample, best);
        } else {
            entry.state = State.Published;
            published.push(requestId);
            emit Published(requestId, entry.author, published.length - 1);
        }
    }

    function _onInferenceFailure(uint64 requestId, IInference.ResultKind kind, bytes calldata reason, bytes calldata)
        internal
        override
    {
        delete pendingExamples[requestId];
        entries[requestId].state = State.Failed;
        emit Failed(requestId, kind == IInference.ResultKind.Expired ? "no answer" : string(reason));
    }
}
