//! Task pipelines: what a user or contract sends (text, an image, audio) in, what they want
//! (embeddings, labels, text) out, with the model in between.
