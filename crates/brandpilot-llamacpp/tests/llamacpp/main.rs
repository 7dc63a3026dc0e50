//! Integration tests of brandpilot-llamacpp (one test binary for the crate): the GGUF
//! writer and reader on synthetic data, and the real converter and embedder on the
//! all-MiniLM-L6-v2 files that `scripts/setup-models.sh` installs.

mod embedding;
mod generation;
mod gguf_roundtrip;
mod support;
