//! The app's LLM plumbing against real parts: call records written by [`StoreCallSink`] from
//! a real router talking to fake OpenAI-compatible servers over sockets, and the answer cache
//! on a real SQLite store with the hashing embedder (exact path) and the local MiniLM model
//! (similarity path; it must be installed by `scripts/setup-models.sh`: a missing model fails
//! with that advice, never skips), and Studio writing a brief offline with the local SmolLM2
//! model.
//!
//! A second integration-test binary for this crate, on purpose: `knowledge_base.rs` belongs
//! to the knowledge-base work, and these tests share nothing with it.

#[path = "llm/answers_eval.rs"]
mod answers_eval;
#[path = "llm/cache.rs"]
mod cache;
#[path = "llm/calls.rs"]
mod calls;
#[path = "llm/service.rs"]
mod service;
#[path = "llm/studio.rs"]
mod studio;

use brandpilot_core::{BrandId, WorkspaceId};
use brandpilot_store::Store;

/// A fresh store in its own temporary directory.
pub async fn open_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("brandpilot.db").display());
    (dir, Store::open(&url).await.unwrap())
}

/// Two workspaces: `default` with brands `acme` and `zeta`, and `other` with `rival`.
pub struct Tenants {
    pub default: WorkspaceId,
    pub acme: BrandId,
    pub zeta: BrandId,
    pub other: WorkspaceId,
    pub rival: BrandId,
}

pub async fn tenants(store: &Store) -> Tenants {
    let default = store.ensure_workspace("default").await.unwrap();
    let other = store.ensure_workspace("other").await.unwrap();
    Tenants {
        default,
        acme: store.ensure_brand(default, "acme").await.unwrap().id,
        zeta: store.ensure_brand(default, "zeta").await.unwrap().id,
        other,
        rival: store.ensure_brand(other, "rival").await.unwrap().id,
    }
}
