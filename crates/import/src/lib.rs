//! `citrate-import`: a Hugging Face model repository in, a Citrate model package out.
//!
//! [`prepare`] runs every step that needs no chain:
//! 1. [`source`]: find the repository — a snapshot directory, or `org/name` in the local
//!    Hugging Face cache (`$HF_HOME/hub/models--org--name/snapshots/<rev>`);
//! 2. [`repository`]: read `config.json`, the model card's front matter ([`card`]), the
//!    tokenizer and preprocessor files and the weights (safetensors, ONNX, GGUF; PyTorch
//!    pickles are refused, since reading one means running its code);
//! 3. [`task`]: map the card's `pipeline_tag` or the config's architecture to an inference task
//!    and a backend, refusing what the engine cannot run with what it can;
//! 4. [`package`]: lay out the model package (the file names the engine reads) and load it in
//!    the engine on a reference input of its task ([`validate`]), which gives the registry
//!    metadata: parameters, FLOPs and peak memory from the engine's cost model;
//! 5. optionally ([`ImportOptions::quantize`], `--quantize int8`), [`quantize`] the package's
//!    ONNX weights to int8, validate the quantized package the same way, compare it with the
//!    original on several reference inputs ([`agreement`]: top-1 label, text or cosine
//!    similarity) and refuse it below a threshold; the sizes and speeds before and after are
//!    reported ([`Quantized`]);
//! 6. [`attestation`]: write `citrate-import.json` — the source repository and revision, the
//!    SHA-256 of every source file, the converter and engine versions and the CID of the model
//!    files, and the optimisation step when one ran — so anyone can run the import again and
//!    check they get the same package CID.
//!
//! Every step is reported to the caller's [`Progress`] with the bytes it goes through where
//! it reads files (hashing, copying, computing CIDs), so a command line can draw bars.
//!
//! Adding the package to a store and registering it on chain is the caller's part
//! (`citrate-node model import`).

pub mod agreement;
pub mod attestation;
pub mod card;
mod error;
pub mod license;
pub mod package;
pub mod progress;
pub mod quantize;
pub mod repository;
pub mod source;
pub mod task;
pub mod validate;

pub use error::{Error, Result};
pub use package::{prepare, ImportOptions, Prepared, Quantized};
pub use progress::{Progress, Reporter};
pub use quantize::Quantization;
