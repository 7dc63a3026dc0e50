//! Integration tests of brandpilot-index, one binary for the whole crate to save link time.
//! Each module exercises one public component through its public API only.

mod index {
    pub mod bm25;
    pub mod fixtures;
    pub mod fusion;
    pub mod metrics;
    pub mod vector;
}
