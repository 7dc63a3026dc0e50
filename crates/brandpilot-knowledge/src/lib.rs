//! Chunking and retrieval: the knowledge part of Brandpilot that is neither storage nor
//! extraction. [`chunk`] turns extracted blocks into token-bounded chunks with locators;
//! [`retrieve`] answers a search over the BM25 and vector indexes and fuses the two.
//!
//! This crate knows no SQL and no HTTP: it receives chunks and returns ranked chunk ids;
//! the app crate moves data between it and the store.

pub mod chunk;
pub mod retrieve;
