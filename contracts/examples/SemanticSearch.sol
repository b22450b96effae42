// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {InferenceConsumer} from "../InferenceConsumer.sol";
import {IInference} from "../interfaces/IInference.sol";
import {Embeddings} from "../Embeddings.sol";
import {TensorCodec} from "../TensorCodec.sol";

/// @title SemanticSearch
/// @notice A searchable collection of short texts: a sentence-embedding model on Citrate embeds
///         every document added; a search embeds the query the same way and ranks the documents
///         by cosine similarity on chain, so the ranking is as verifiable as the embeddings.
/// @dev Embeddings are stored as fixed-point int16 (`Embeddings`, value × 1e4). Ranking reads every
///      document, so the collection is capped at `MAX_DOCUMENTS`; the search callback needs
///      about 25,000 gas per document of a 384-dimension model.
contract SemanticSearch is InferenceConsumer {
    uint256 public constant MAX_DOCUMENTS = 64;
    uint256 public constant MAX_TEXT = 512;
    /// Results a search keeps.
    uint256 public constant TOP = 3;

    struct Document {
        address author;
        string text;
        int16[] embedding;
    }

    struct Search {
        address author;
        string query;
        bool done;
        /// Documents, best first, and their cosine similarity × 1e18.
        uint256[] ranking;
        int256[] scores;
    }

    /// The sentence-embedding model.
    uint64 public immutable embedder;
    /// Gas each result callback may use.
    uint64 public immutable callbackGas;

    /// Documents with their embeddings, in the order they were embedded.
    Document[] internal documents;
    /// Searches by request id.
    mapping(uint64 => Search) internal searches;
    /// Texts waiting for their embeddings, by request id.
    mapping(uint64 => Document) internal pendingDocuments;

    event DocumentSubmitted(uint64 indexed requestId, address indexed author);
    event DocumentIndexed(uint64 indexed requestId, uint256 indexed documentId);
    event SearchSubmitted(uint64 indexed requestId, address indexed author, string query);
    /// `ranking` holds document ids best first; `scores` their cosine similarity × 1e18.
    event SearchResult(uint64 indexed requestId, uint256[] ranking, int256[] scores);
    event RequestFailed(uint64 indexed requestId, string reason);

    error EmptyText();
    error TextTooLong(uint256 length);
    error CollectionFull();

    enum Kind {
        Document,
        Search
    }

    constructor(uint64 model, uint64 gas) {
        embedder = model;
        callbackGas = gas;
    }

    /// What `addDocument(text)` or `search(text)` costs.
    function fee(string calldata text) external view returns (uint256) {
        return _inferenceFee(embedder, TensorCodec.textInput(text).length, callbackGas);
    }

    /// Embeds `text` and adds it to the collection.
    function addDocument(string calldata text) external payable returns (uint64 requestId) {
        if (documents.length >= MAX_DOCUMENTS) revert CollectionFull();
        requestId = _embed(text, Kind.Document);
        Document storage document = pendingDocuments[requestId];
        document.author = msg.sender;
        document.text = text;
        emit DocumentSubmitted(requestId, msg.sender);
    }

    /// Embeds `query` and ranks the collection against it; see `searchResult`.
    function search(string calldata query) external payable returns (uint64 requestId) {
        requestId = _embed(query, Kind.Search);
        Search storage s = searches[requestId];
        s.author = msg.sender;
        s.query = query;
        emit SearchSubmitted(requestId, msg.sender, query);
    }

    function documentCount() external view returns (uint256) {
        return documents.length;
    }

    function document(uint256 id) external view returns (address author, string memory text, int16[] memory embedding) {
        Document storage d = documents[id];
        return (d.author, d.text, d.embedding);
    }

    /// The ranking of search `requestId`: `done` false while its embedding is pending.
    function searchResult(uint64 requestId)
        external
        view
        returns (bool done, string memory query, uint256[] memory ranking, int256[] memory scores)
    {
        Search storage s = searches[requestId];
        return (s.done, s.query, s.ranking, s.scores);
    }

    /// Cosine similarity × 1e18 of document `id` and `embedding` (int16 × 1e4).
    function similarity(uint256 id, int16[] calldata embedding) external view returns (int256) {
        return Embeddings.cosine(embedding, documents[id].embedding);
    }

    function _embed(string calldata text, Kind kind) private returns (uint64) {
        if (bytes(text).length == 0) revert EmptyText();
        if (bytes(text).length > MAX_TEXT) revert TextTooLong(bytes(text).length);
        return _requestInference(embedder, TensorCodec.textInput(text), callbackGas, abi.encode(kind));
    }

    function _onInferenceOutput(uint64 requestId, bytes calldata output, bytes calldata callbackData) internal override {
        int16[] memory embedding = Embeddings.fromOutput(output, 0);
        if (abi.decode(callbackData, (Kind)) == Kind.Document) {
            Document storage pendingDocument = pendingDocuments[requestId];
            documents.push(Document(pendingDocument.author, pendingDocument.text, embedding));
            delete pendingDocuments[requestId];
            emit DocumentIndexed(requestId, documents.length - 1);
        } else {
            _rank(requestId, embedding);
        }
    }

    /// Keeps the `TOP` documents most similar to `query` (insertion into a short sorted list).
    function _rank(uint64 requestId, int16[] memory query) private {
        uint256 n = documents.length < TOP ? documents.length : TOP;
        uint256[] memory ranking = new uint256[](n);
        int256[] memory scores = new int256[](n);
        uint256 filled = 0;
        for (uint256 id = 0; id < documents.length; id++) {
            int256 score = Embeddings.cosine(query, documents[id].embedding);
            uint256 at = filled;
            while (at > 0 && scores[at - 1] < score) {
                if (at < n) {
                    ranking[at] = ranking[at - 1];
                    scores[at] = scores[at - 1];
                }
                at--;
            }
            if (at < n) {
                ranking[at] = id;
                scores[at] = score;
                if (filled < n) filled++;
            }
        }
        Search storage s = searches[requestId];
        s.done = true;
        s.ranking = ranking;
        s.scores = scores;
        emit SearchResult(requestId, ranking, scores);
    }

    function _onInferenceFailure(uint64 requestId, IInference.ResultKind kind, bytes calldata reason, bytes calldata)
        internal
        override
    {
        delete pendingDocuments[requestId];
        emit RequestFailed(requestId, kind == IInference.ResultKind.Expired ? "no answer" : string(reason));
    }
}
