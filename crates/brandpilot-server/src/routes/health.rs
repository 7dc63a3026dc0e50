//! Liveness and readiness, outside `/api/v1` and without authentication: probes from an
//! orchestrator or a load balancer.

use crate::ServerState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Health {
    /// `ok` when the process answers (liveness) or every dependency answers (readiness).
    pub status: String,
}

#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct Readiness {
    pub status: String,
    /// `ok` or the reason the database cannot be used.
    pub store: String,
    /// `ok` or the reason the search indexes cannot be used.
    pub index: String,
    /// Chunks the search indexes hold.
    pub indexed_chunks: u64,
}

/// Liveness: the process is up and serving. Touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is serving", body = Health)))]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers and the indexes are open. 503 when either fails.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "A dependency is not usable", body = Readiness),
    ))]
pub(crate) async fn readyz(State(state): State<ServerState>) -> (StatusCode, Json<Readiness>) {
    let store = match state.app.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(error) => {
            tracing::warn!(%error, "readiness: the store does not answer");
            "unavailable".to_owned()
        }
    };
    let (index, indexed_chunks) = match state.app.index_sizes() {
        Ok((bm25, _vectors)) => ("ok".to_owned(), bm25),
        Err(error) => {
            tracing::warn!(%error, "readiness: the indexes cannot be read");
            ("unavailable".to_owned(), 0)
        }
    };
    let ready = store == "ok" && index == "ok";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ok" } else { "unavailable" }.into(),
            store,
            index,
            indexed_chunks,
        }),
    )
}
