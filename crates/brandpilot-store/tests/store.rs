//! Store behaviour the rest of Brandpilot relies on: upserts by origin, atomic chunk
//! replacement, the deletion log the indexes replay, brand scoping and the embedding cache;
//! LLM call records and the answer cache in `store/llm.rs`; brands by id and API keys in
//! `store/access.rs`; users, sessions and the audit trail in `store/accounts.rs`; the
//! assistant's conversations, ratings, profiles and customer records in
//! `store/assistant.rs` and its tickets in `store/tickets.rs`; the job queue in
//! `store/jobs.rs`; webhook endpoints and brand widgets in `store/integrations.rs`; Studio's brand rules and
//! experiments in `store/studio.rs`, its examples library and voice profiles in `store/examples.rs`; what only PostgreSQL needs proven (chunk ids in commit order under
//! concurrent writers) in `store/postgres.rs`.
//!
//! Every test in a `backend_tests!` block runs twice, as `…::sqlite::name` and
//! `…::postgres::name`, each on a fresh database (a PostgreSQL schema of its own; see
//! `brandpilot_testkit::postgres` for where the server comes from).

#[path = "store/access.rs"]
mod access;
#[path = "store/accounts.rs"]
mod accounts;
#[path = "store/assistant.rs"]
mod assistant;
#[path = "store/examples.rs"]
mod examples;
#[path = "store/generations.rs"]
mod generations;
#[path = "store/integrations.rs"]
mod integrations;
#[path = "store/jobs.rs"]
mod jobs;
#[path = "store/llm.rs"]
mod llm;
#[path = "store/postgres.rs"]
mod postgres_only;
#[path = "store/studio.rs"]
mod studio;
#[path = "store/tickets.rs"]
mod tickets;
#[path = "store/tls.rs"]
mod tls;

use brandpilot_core::{ChunkId, ChunkLocator, ContentHash, SourceId, SourceKind, SourceStatus};
use brandpilot_store::{JobStatus, NewChunk, NewSource, SourceUpdate, SourceWrite, Store};
use brandpilot_testkit::{TestDatabase, backend_tests};

fn chunk(text: &str) -> NewChunk {
    NewChunk {
        text: text.into(),
        token_count: text.split_whitespace().count() as u32,
        content_hash: ContentHash::of(text.as_bytes()),
        locator: ChunkLocator {
            page: Some(1),
            char_start: 0,
            char_end: text.len() as u64,
            ..Default::default()
        },
    }
}

fn new_source(origin: &str) -> NewSource {
    NewSource {
        kind: SourceKind::Text,
        origin: origin.into(),
        title: origin.into(),
        tags: vec!["faq".into()],
        byte_size: 10,
    }
}

fn update(text: &str) -> SourceUpdate {
    SourceUpdate {
        kind: SourceKind::Text,
        title: "Title".into(),
        tags: vec!["faq".into()],
        content_hash: ContentHash::of(text.as_bytes()),
        byte_size: text.len() as u64,
    }
}

backend_tests! {
    async fn workspaces_and_brands_are_upserted_by_name(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        assert_eq!(store.ensure_workspace("default").await.unwrap(), ws);
        let acme = store.ensure_brand(ws, "acme").await.unwrap();
        assert_eq!(store.ensure_brand(ws, "acme").await.unwrap(), acme);
        let other = store.ensure_brand(ws, "other").await.unwrap();
        assert_ne!(acme.id, other.id);
        assert_eq!(store.find_brand(ws, "acme").await.unwrap(), Some(acme));
        assert_eq!(store.find_brand(ws, "missing").await.unwrap(), None);
        assert_eq!(store.list_brands(ws).await.unwrap().len(), 2);
    }

    async fn replacing_chunks_logs_the_old_ones_as_deleted_and_ids_keep_growing(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap();

        let source = store
            .begin_source(brand.id, &new_source("/a.txt"))
            .await
            .unwrap();
        let first = store
            .replace_chunks(source, &update("v1"), &[chunk("alpha"), chunk("beta")])
            .await
            .unwrap();
        let record = store.get_source(brand.id, source).await.unwrap().unwrap();
        assert_eq!(record.status, SourceStatus::Ready);
        assert_eq!(record.chunk_count, 2);
        assert_eq!(record.content_hash, Some(ContentHash::of(b"v1")));

        // Ingesting the same origin again reuses the row and, until it succeeds, clears the hash
        // so that a crash in between makes the next run redo it.
        assert_eq!(
            store
                .begin_source(brand.id, &new_source("/a.txt"))
                .await
                .unwrap(),
            source
        );
        let pending = store.get_source(brand.id, source).await.unwrap().unwrap();
        assert_eq!(
            (pending.status, pending.content_hash),
            (SourceStatus::Processing, None)
        );

        let second = store
            .replace_chunks(source, &update("v2"), &[chunk("gamma")])
            .await
            .unwrap();
        assert!(second[0] > first[1], "chunk ids must only grow");

        let marks = store.index_high_marks().await.unwrap();
        assert_eq!(marks.last_chunk, second[0]);
        assert_eq!(
            store.deletions_after(0, marks.last_deletion).await.unwrap(),
            first
        );

        // Only the new chunk is left, and chunks_after walks exactly the requested window.
        let all = store
            .chunks_after(ChunkId(0), marks.last_chunk, "m", 100)
            .await
            .unwrap();
        assert_eq!(all.iter().map(|c| c.id).collect::<Vec<_>>(), second);
        assert_eq!(all[0].tags, vec!["faq".to_string()]);
        assert!(
            store
                .chunks_after(second[0], marks.last_chunk, "m", 100)
                .await
                .unwrap()
                .is_empty()
        );
    }

    async fn deleting_a_source_cascades_to_chunks_and_the_deletion_log(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap();
        let other = store.ensure_brand(ws, "other").await.unwrap();
        let source = store
            .begin_source(brand.id, &new_source("/a.txt"))
            .await
            .unwrap();
        let ids = store
            .replace_chunks(source, &update("v1"), &[chunk("a"), chunk("b")])
            .await
            .unwrap();

        // Another brand cannot delete it.
        assert!(!store.delete_source(other.id, source).await.unwrap());
        assert_eq!(store.count_chunks().await.unwrap(), 2);

        assert!(store.delete_source(brand.id, source).await.unwrap());
        assert_eq!(store.count_chunks().await.unwrap(), 0);
        let marks = store.index_high_marks().await.unwrap();
        let mut deleted = store.deletions_after(0, marks.last_deletion).await.unwrap();
        deleted.sort();
        assert_eq!(deleted, ids);
        // The chunk high mark does not go backwards after its rows are gone.
        assert_eq!(marks.last_chunk, ids[1]);
    }

    async fn chunks_by_ids_never_returns_another_brands_chunks(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap();
        let rival = store.ensure_brand(ws, "rival").await.unwrap();
        let a = store
            .begin_source(acme.id, &new_source("/a.txt"))
            .await
            .unwrap();
        let a_ids = store
            .replace_chunks(a, &update("a"), &[chunk("acme secret")])
            .await
            .unwrap();
        let r = store
            .begin_source(rival.id, &new_source("/a.txt"))
            .await
            .unwrap();
        let r_ids = store
            .replace_chunks(r, &update("r"), &[chunk("rival secret")])
            .await
            .unwrap();

        let asked: Vec<ChunkId> = a_ids.iter().chain(&r_ids).copied().collect();
        let found = store.chunks_by_ids(acme.id, &asked).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].text, "acme secret");
        assert_eq!(found[0].locator.page, Some(1));
        assert!(store.get_source(acme.id, r).await.unwrap().is_none());
    }

    async fn embeddings_are_cached_per_model_and_found_for_missing_chunks(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap();
        let source = store
            .begin_source(brand.id, &new_source("/a.txt"))
            .await
            .unwrap();
        store
            .replace_chunks(source, &update("v"), &[chunk("one"), chunk("two")])
            .await
            .unwrap();

        let one = ContentHash::of(b"one");
        store
            .put_embeddings("m1", &[(one, vec![0.5, -1.25])])
            .await
            .unwrap();
        // A second put of the same key is a no-op, not an error.
        store
            .put_embeddings("m1", &[(one, vec![9.0, 9.0])])
            .await
            .unwrap();

        let cached = store
            .cached_embeddings("m1", &[one, ContentHash::of(b"two")])
            .await
            .unwrap();
        assert_eq!(cached.len(), 1);
        assert_eq!(cached[&one], vec![0.5, -1.25]);
        assert!(
            store
                .cached_embeddings("m2", &[one])
                .await
                .unwrap()
                .is_empty()
        );

        let missing = store
            .chunk_hashes_missing_embedding("m1", 10)
            .await
            .unwrap();
        assert_eq!(missing, vec![(ContentHash::of(b"two"), "two".to_string())]);

        let marks = store.index_high_marks().await.unwrap();
        let rows = store
            .chunks_after(ChunkId(0), marks.last_chunk, "m1", 10)
            .await
            .unwrap();
        assert_eq!(rows[0].vector.as_deref(), Some(&[0.5f32, -1.25][..]));
        assert_eq!(rows[1].vector, None);
    }

    async fn failed_sources_keep_the_reason_and_jobs_track_progress(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap();
        let source = store
            .begin_source(brand.id, &new_source("/bad.pdf"))
            .await
            .unwrap();
        store
            .mark_source_failed(source, "the PDF is encrypted")
            .await
            .unwrap();
        let listed = store.list_sources(brand.id).await.unwrap();
        assert_eq!(listed[0].status, SourceStatus::Failed);
        assert_eq!(listed[0].error.as_deref(), Some("the PDF is encrypted"));

        let job = store
            .create_job(ws, "ingest", &serde_json::json!({"paths": ["/x"]}))
            .await
            .unwrap();
        store
            .update_job(job, JobStatus::Succeeded, 3, 3, None)
            .await
            .unwrap();
        let record = store.get_job(job).await.unwrap().unwrap();
        assert_eq!(
            (record.status, record.progress_done, record.progress_total),
            (JobStatus::Succeeded, 3, 3)
        );
        assert_eq!(record.payload["paths"][0], "/x");
    }

    async fn data_survives_reopening(store: Store, url: &str) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap();
        let source = store
            .begin_source(brand.id, &new_source("/a.txt"))
            .await
            .unwrap();
        store
            .replace_chunks(source, &update("v"), &[chunk("kept")])
            .await
            .unwrap();
        store.close().await;

        let reopened = Store::open(url).await.unwrap();
        assert_eq!(reopened.count_chunks().await.unwrap(), 1);
    }

    async fn a_group_of_sources_is_written_at_once_and_found_only_in_its_brand(store: Store) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let acme = store.ensure_brand(ws, "acme").await.unwrap();
        let other = store.ensure_brand(ws, "other").await.unwrap();
        let write = |origin: &str, version: &str, texts: &[&str]| SourceWrite {
            source: new_source(origin),
            update: update(version),
            chunks: texts.iter().map(|t| chunk(t)).collect(),
        };
        let ids = store
            .write_sources(
                acme.id,
                &[
                    write("/a.txt", "a1", &["alpha", "beta"]),
                    write("/b.txt", "b1", &["gamma"]),
                ],
            )
            .await
            .unwrap();
        store
            .write_sources(other.id, &[write("/a.txt", "x1", &["secret"])])
            .await
            .unwrap();
        // Rewriting a source replaces its chunks and keeps its row.
        let again = store
            .write_sources(acme.id, &[write("/a.txt", "a2", &["delta"])])
            .await
            .unwrap();
        assert_eq!(again[0].id, ids[0].id);

        let origins = vec![
            "/a.txt".to_owned(),
            "/b.txt".to_owned(),
            "/c.txt".to_owned(),
        ];
        let found = store.find_sources(acme.id, &origins).await.unwrap();
        assert_eq!(found.len(), 2);
        let a = &found["/a.txt"];
        assert_eq!(
            (a.status, a.chunk_count, a.content_hash),
            (SourceStatus::Ready, 1, Some(ContentHash::of(b"a2")))
        );
        assert_eq!(found["/b.txt"].chunk_count, 1);
        assert_eq!(
            store.find_sources(other.id, &origins).await.unwrap().len(),
            1
        );
        // alpha, beta, gamma, secret, then delta replacing alpha and beta.
        assert_eq!(store.count_chunks().await.unwrap(), 3);
        let marks = store.index_high_marks().await.unwrap();
        assert_eq!(
            store
                .deletions_after(0, marks.last_deletion)
                .await
                .unwrap()
                .len(),
            2
        );
    }

    /// Groups are written with multi-row statements of a bounded size; a group larger than one
    /// statement, an origin named twice and a batch of embeddings larger than one statement
    /// must all read back exactly as row-by-row writes would have left them.
    async fn large_groups_read_back_in_order_with_the_last_version_of_a_repeated_origin(
        store: Store,
    ) {
        let ws = store.ensure_workspace("default").await.unwrap();
        let brand = store.ensure_brand(ws, "acme").await.unwrap();
        let texts: Vec<String> = (0..1_200).map(|i| format!("chunk number {i}")).collect();
        let mut writes: Vec<SourceWrite> = (0..600)
            .map(|i| SourceWrite {
                source: new_source(&format!("/{i}.txt")),
                update: update(&format!("v{i}")),
                chunks: vec![chunk(&texts[2 * i]), chunk(&texts[2 * i + 1])],
            })
            .collect();
        // The first origin again, with other chunks: its last version wins.
        writes.push(SourceWrite {
            source: new_source("/0.txt"),
            update: update("v0-again"),
            chunks: vec![chunk("replacement \"quoted\" text")],
        });
        let written = store.write_sources(brand.id, &writes).await.unwrap();
        assert_eq!(written.len(), writes.len());
        let ids: Vec<_> = written.iter().map(|w| w.id).collect();
        assert_eq!(ids[0], ids[600]);
        assert_eq!(
            ids.iter().collect::<std::collections::HashSet<_>>().len(),
            600
        );
        // The superseded first version stored no chunks; every other write names its own.
        assert!(written[0].chunks.is_empty());
        assert_eq!(written[600].chunks.len(), 1);
        assert!(written[1..600].iter().all(|w| w.chunks.len() == 2));

        let marks = store.index_high_marks().await.unwrap();
        let stored = store
            .chunks_after(ChunkId(0), marks.last_chunk, "m", 5_000)
            .await
            .unwrap();
        let expected: Vec<&str> = texts[2..]
            .iter()
            .map(String::as_str)
            .chain(["replacement \"quoted\" text"])
            .collect();
        assert_eq!(
            stored.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            expected
        );
        assert_eq!(stored[0].source, ids[1]);
        assert_eq!(stored.last().unwrap().source, ids[0]);
        // The ids the write returned are the stored chunks', in the chunks' order.
        let returned: Vec<(SourceId, ChunkId)> = written
            .iter()
            .flat_map(|w| w.chunks.iter().map(move |chunk| (w.id, *chunk)))
            .collect();
        assert_eq!(
            stored.iter().map(|c| (c.source, c.id)).collect::<Vec<_>>(),
            returned
        );
        assert_eq!(stored[0].tags, vec!["faq".to_owned()]);
        let found = store
            .find_sources(brand.id, &["/0.txt".to_owned()])
            .await
            .unwrap();
        assert_eq!(
            (found["/0.txt"].chunk_count, found["/0.txt"].content_hash),
            (1, Some(ContentHash::of(b"v0-again")))
        );

        let rows: Vec<(ContentHash, Vec<f32>)> = stored
            .iter()
            .enumerate()
            .map(|(i, c)| (c.content_hash, vec![i as f32, -0.5, f32::MIN_POSITIVE]))
            .collect();
        store.put_embeddings("m", &rows).await.unwrap();
        let hashes: Vec<ContentHash> = rows.iter().map(|(hash, _)| *hash).collect();
        let cached = store.cached_embeddings("m", &hashes).await.unwrap();
        assert_eq!(cached.len(), rows.len());
        for (hash, vector) in &rows {
            assert_eq!(&cached[hash], vector);
        }
    }
}

/// A CLI started beside a server, or a watcher beside a child, opens the same new database
/// at the same moment; migrations must run once, not fail in the slower process. (Not in
/// `backend_tests!`, which opens the store first: the database must be new.)
async fn concurrent_first_opens_all_succeed(url: &str) {
    let opens: Vec<_> = (0..6)
        .map(|_| {
            let url = url.to_owned();
            tokio::spawn(async move { Store::open(&url).await.map(|_| ()) })
        })
        .collect();
    for open in opens {
        open.await.unwrap().expect("every concurrent open succeeds");
    }
}

#[tokio::test]
async fn concurrent_first_opens_of_a_new_sqlite_database_all_succeed() {
    let database = TestDatabase::sqlite();
    concurrent_first_opens_all_succeed(database.url()).await;
}

#[tokio::test]
async fn concurrent_first_opens_of_a_new_postgres_schema_all_succeed() {
    let database = TestDatabase::postgres().await;
    concurrent_first_opens_all_succeed(database.url()).await;
}
