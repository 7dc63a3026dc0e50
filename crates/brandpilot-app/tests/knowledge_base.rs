//! The knowledge base as a user meets it: ingest a folder, search it with citations,
//! re-ingest (no-op), change a file (replaced), remove a source (gone everywhere), keep
//! brands apart, and carry on past broken files.

use brandpilot_app::settings::EmbedderKind;
use brandpilot_app::{Brandpilot, Quiet, Settings};
use brandpilot_core::{SearchMode, SourceStatus};
use brandpilot_extract::PdfRunner;
use brandpilot_testkit::TestDatabase;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

async fn open(dir: &Path) -> Brandpilot {
    let mut settings = Settings {
        data_dir: dir.join("data"),
        models_dir: dir.join("no-models"),
        ..Settings::default()
    };
    settings.embedder.kind = EmbedderKind::Hashing;
    settings.store.url = store_url(&settings.data_dir).await;
    Brandpilot::open(settings, PdfRunner::InProcess)
        .await
        .unwrap()
}

/// The database of a data directory: `None` (SQLite in the directory) unless
/// `BRANDPILOT_TEST_STORE=postgres`, when each data directory gets a PostgreSQL schema of
/// its own, the same one each time it is opened (tests open a directory twice to play two
/// processes). The schemas live as long as the test process; the test command's cluster
/// is deleted after the run.
async fn store_url(data_dir: &Path) -> Option<String> {
    static DATABASES: Mutex<BTreeMap<PathBuf, TestDatabase>> = Mutex::new(BTreeMap::new());
    if !brandpilot_testkit::on_postgres() {
        return None;
    }
    if let Some(database) = DATABASES.lock().unwrap().get(data_dir) {
        return Some(database.url().to_owned());
    }
    let database = TestDatabase::postgres().await;
    let mut databases = DATABASES.lock().unwrap();
    let database = databases.entry(data_dir.to_owned()).or_insert(database);
    Some(database.url().to_owned())
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn sample_docs(dir: &Path) {
    write(
        dir,
        "docs/refunds.md",
        "# Refunds\n\nOpened bags cannot be returned for change of mind.\n\n## Damaged\n\nDamaged parcels are refunded in full within 14 days.",
    );
    write(
        dir,
        "docs/shipping.txt",
        "Orders before eleven ship the same day.\n\nNext-day delivery costs four pounds fifty.",
    );
    write(
        dir,
        "docs/menu.csv",
        "item,price\nOat-milk latte,3.80\nFlat white,3.30\n",
    );
    write(
        dir,
        "docs/training.srt",
        "1\n00:00:01,000 --> 00:00:04,000\nSteam oat milk to sixty degrees.\n",
    );
}

#[tokio::test]
async fn ingest_search_reingest_change_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    sample_docs(dir.path());
    let app = open(dir.path()).await;
    let brand = app.brand("northwind", true).await.unwrap();

    let report = app
        .ingest_paths(&brand, &[dir.path().join("docs")], &[], &Quiet)
        .await
        .unwrap();
    assert_eq!((report.files, report.added, report.failed.len()), (4, 4, 0));
    let chunks_after_first = app.store.count_chunks().await.unwrap();
    assert_eq!(
        app.index_sizes().unwrap(),
        (chunks_after_first, chunks_after_first as usize)
    );

    // Every format is searchable, with a locator that says where the passage is.
    let results = app
        .search(
            &brand,
            "damaged parcels refunded",
            3,
            SearchMode::Hybrid,
            &[],
        )
        .await
        .unwrap();
    let top = &results.passages[0];
    assert!(top.text.contains("Damaged parcels"), "{:?}", top.text);
    assert_eq!(
        top.locator.heading_path,
        vec!["Refunds".to_string(), "Damaged".to_string()]
    );
    assert!(
        !results.semantic,
        "the hashing embedder must be reported as lexical"
    );
    let latte = app
        .search(&brand, "oat-milk latte price", 1, SearchMode::Bm25, &[])
        .await
        .unwrap();
    assert_eq!(latte.passages[0].locator.rows, Some((1, 2)));
    let steam = app
        .search(&brand, "steam oat milk", 1, SearchMode::Bm25, &[])
        .await
        .unwrap();
    assert_eq!(steam.passages[0].locator.start_ms, Some(1000));

    // Unchanged content: a no-op, nothing re-embedded.
    let again = app
        .ingest_paths(&brand, &[dir.path().join("docs")], &[], &Quiet)
        .await
        .unwrap();
    assert_eq!(
        (again.unchanged, again.added, again.updated, again.embedded),
        (4, 0, 0, 0)
    );
    assert_eq!(app.store.count_chunks().await.unwrap(), chunks_after_first);

    // Changed content replaces the old chunks: the old text is no longer found.
    write(
        dir.path(),
        "docs/shipping.txt",
        "Orders ship on Tuesdays and Fridays only.",
    );
    let changed = app
        .ingest_paths(&brand, &[dir.path().join("docs")], &[], &Quiet)
        .await
        .unwrap();
    assert_eq!((changed.updated, changed.unchanged), (1, 3));
    let old = app
        .search(&brand, "next-day delivery pounds", 5, SearchMode::Bm25, &[])
        .await
        .unwrap();
    assert!(
        old.passages.iter().all(|p| !p.text.contains("Next-day")),
        "stale chunk still found"
    );
    let new = app
        .search(&brand, "Tuesdays Fridays", 1, SearchMode::Hybrid, &[])
        .await
        .unwrap();
    assert!(new.passages[0].text.contains("Tuesdays"));
    let total = app.store.count_chunks().await.unwrap();
    assert_eq!(app.index_sizes().unwrap(), (total, total as usize));

    // Removing a source removes its chunks from the store and both indexes.
    let sources = app.list_sources(&brand).await.unwrap();
    let refunds = sources
        .iter()
        .find(|s| s.origin.ends_with("refunds.md"))
        .unwrap();
    app.remove_source(&brand, refunds.id).await.unwrap();
    for mode in [SearchMode::Bm25, SearchMode::Vector, SearchMode::Hybrid] {
        let hits = app
            .search(&brand, "damaged parcels refunded", 10, mode, &[])
            .await
            .unwrap();
        assert!(
            hits.passages.iter().all(|p| p.source_id != refunds.id),
            "{mode}: removed source found"
        );
    }
    let remaining = app.store.count_chunks().await.unwrap();
    assert_eq!(remaining, total - refunds.chunk_count);
    assert_eq!(app.index_sizes().unwrap(), (remaining, remaining as usize));
    assert!(
        app.remove_source(&brand, refunds.id).await.is_err(),
        "removing twice is an error"
    );

    // The indexes rebuilt from the store give the same answers.
    let before = app
        .search(&brand, "oat milk", 5, SearchMode::Hybrid, &[])
        .await
        .unwrap();
    app.reindex().await.unwrap();
    let after = app
        .search(&brand, "oat milk", 5, SearchMode::Hybrid, &[])
        .await
        .unwrap();
    let ids = |r: &brandpilot_app::SearchResults| {
        r.passages.iter().map(|p| p.chunk_id).collect::<Vec<_>>()
    };
    assert_eq!(ids(&before), ids(&after));
}

#[tokio::test]
async fn brands_never_see_each_other_and_tags_filter() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a/secret.txt",
        "Acme launches the quantum espresso machine in March.",
    );
    write(
        dir.path(),
        "b/public.txt",
        "Rival sells ordinary espresso machines.",
    );
    write(
        dir.path(),
        "b/tagged.txt",
        "Rival espresso machine warranty lasts two years.",
    );
    let app = open(dir.path()).await;
    let acme = app.brand("acme", true).await.unwrap();
    let rival = app.brand("rival", true).await.unwrap();
    app.ingest_paths(&acme, &[dir.path().join("a")], &[], &Quiet)
        .await
        .unwrap();
    app.ingest_paths(&rival, &[dir.path().join("b/public.txt")], &[], &Quiet)
        .await
        .unwrap();
    app.ingest_paths(
        &rival,
        &[dir.path().join("b/tagged.txt")],
        &["warranty".into()],
        &Quiet,
    )
    .await
    .unwrap();

    for mode in [SearchMode::Bm25, SearchMode::Vector, SearchMode::Hybrid] {
        let hits = app
            .search(&rival, "quantum espresso machine March", 10, mode, &[])
            .await
            .unwrap();
        assert!(!hits.passages.is_empty());
        assert!(
            hits.passages.iter().all(|p| !p.text.contains("quantum")),
            "{mode}: leaked across brands"
        );
        let tagged = app
            .search(&rival, "espresso machine", 10, mode, &["warranty".into()])
            .await
            .unwrap();
        assert_eq!(tagged.passages.len(), 1, "{mode}");
        assert!(tagged.passages[0].text.contains("warranty"));
    }
    assert!(app.brand("nobody", false).await.is_err());
}

#[tokio::test]
async fn broken_files_are_recorded_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "in/good.md", "# Good\n\nThis file is fine.");
    write(
        dir.path(),
        "in/broken.pdf",
        "%PDF-1.7\n1 0 obj << /Type /Catalog",
    );
    write(dir.path(), "in/empty.txt", "");
    std::fs::write(
        dir.path().join("in/program.exe"),
        [0x4d, 0x5a, 0x90, 0x00, 0x03],
    )
    .unwrap();
    let app = open(dir.path()).await;
    let brand = app.brand("acme", true).await.unwrap();
    let report = app
        .ingest_paths(&brand, &[dir.path().join("in")], &[], &Quiet)
        .await
        .unwrap();
    assert_eq!(report.added, 1);
    assert_eq!(report.failed.len(), 3, "{:?}", report.failed);
    let sources = app.list_sources(&brand).await.unwrap();
    let broken = sources
        .iter()
        .find(|s| s.origin.ends_with("broken.pdf"))
        .unwrap();
    assert_eq!(broken.status, SourceStatus::Failed);
    assert!(broken.error.as_deref().is_some_and(|e| !e.is_empty()));
    // A failed file is retried on the next run (it has no stored hash), still failing cleanly.
    let again = app
        .ingest_paths(&brand, &[dir.path().join("in")], &[], &Quiet)
        .await
        .unwrap();
    assert_eq!((again.unchanged, again.failed.len()), (1, 3));
    let missing = app
        .ingest_paths(&brand, &[dir.path().join("missing")], &[], &Quiet)
        .await;
    assert!(
        missing.is_err(),
        "a path that does not exist is an error, not an empty success"
    );
}

/// A server follows the store: chunks another process stores (the command line, another
/// replica) become searchable without a restart, and the follower stops when told.
#[tokio::test]
async fn a_following_app_indexes_what_another_process_stored() {
    use brandpilot_core::{ChunkLocator, ContentHash, SourceKind};
    use brandpilot_store::{NewChunk, NewSource, SourceUpdate, Store};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(open(dir.path()).await);
    let brand = app.brand("acme", true).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let follower = tokio::spawn({
        let app = app.clone();
        async move { app.follow_store(Duration::from_millis(50), stopped).await }
    });

    // Another process: its own connection pool on the same database file.
    let other = Store::open(&app.settings.database_url()).await.unwrap();
    let text = "Gift cards never expire and can be used online.";
    let source = other
        .begin_source(
            brand.id,
            &NewSource {
                kind: SourceKind::Text,
                origin: "elsewhere://gift-cards".into(),
                title: "Gift cards".into(),
                tags: Vec::new(),
                byte_size: text.len() as u64,
            },
        )
        .await
        .unwrap();
    other
        .replace_chunks(
            source,
            &SourceUpdate {
                kind: SourceKind::Text,
                title: "Gift cards".into(),
                tags: Vec::new(),
                content_hash: ContentHash::of(text.as_bytes()),
                byte_size: text.len() as u64,
            },
            &[NewChunk {
                text: text.into(),
                token_count: 9,
                content_hash: ContentHash::of(text.as_bytes()),
                locator: ChunkLocator {
                    char_start: 0,
                    char_end: text.len() as u64,
                    ..Default::default()
                },
            }],
        )
        .await
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = app
            .search(&brand, "gift cards expire", 3, SearchMode::Hybrid, &[])
            .await
            .unwrap();
        if found
            .passages
            .iter()
            .any(|p| p.source_origin == "elsewhere://gift-cards")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the follower never indexed the new chunk"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), follower)
        .await
        .expect("the follower stops when told")
        .unwrap();
}

/// Uploads go through the job queue: the runner ingests them, they become searchable, the
/// job's result reports per-file outcomes, the bytes are dropped afterwards, a client's
/// path in a file name is ignored, and a repeated idempotency key queues nothing new.
#[tokio::test]
async fn uploaded_files_are_ingested_by_the_job_runner() {
    use brandpilot_app::uploads::AppJobs;
    use brandpilot_jobs::{Runner, RunnerConfig};
    use brandpilot_store::{Enqueued, JobStatus};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(open(dir.path()).await);
    let brand = app.brand("acme", true).await.unwrap();
    let runner = Runner::start(
        app.store.clone(),
        Arc::new(AppJobs::new(app.clone())),
        RunnerConfig {
            poll: Duration::from_millis(20),
            ..RunnerConfig::default()
        },
    );
    let files = vec![
        (
            "../../etc/refunds.md".to_owned(),
            b"# Refunds\n\nDamaged parcels are refunded within fourteen days.".to_vec(),
        ),
        (
            "broken.pdf".to_owned(),
            b"%PDF-1.7 this is not a real PDF".to_vec(),
        ),
    ];
    let job = app
        .queue_upload(
            &brand,
            files.clone(),
            &["support".into()],
            Some("req-1".into()),
        )
        .await
        .unwrap();
    let again = app
        .queue_upload(&brand, files, &[], Some("req-1".into()))
        .await
        .unwrap();
    assert_eq!(again, Enqueued::Existing(job.id()));
    runner.notify();

    let deadline = Instant::now() + Duration::from_secs(30);
    let record = loop {
        let record = app.store.get_job(job.id()).await.unwrap().unwrap();
        if record.status.is_final() {
            break record;
        }
        assert!(Instant::now() < deadline, "the upload job never finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    runner.stop().await;
    assert_eq!(record.status, JobStatus::Succeeded, "{record:?}");
    assert_eq!((record.progress_done, record.progress_total), (2, 2));
    let result = record.result.unwrap();
    assert_eq!(result["added"], 1, "{result}");
    assert_eq!(result["failed"][0][0], "upload:broken.pdf", "{result}");

    let found = app
        .search(
            &brand,
            "damaged parcel refund",
            3,
            SearchMode::Hybrid,
            &["support".into()],
        )
        .await
        .unwrap();
    assert_eq!(found.passages[0].source_origin, "upload:refunds.md");
    assert!(
        app.store
            .uploads(brand.id, &[1, 2, 3, 4])
            .await
            .unwrap()
            .is_empty(),
        "bytes kept"
    );
}

/// With `retrieval.mmr_lambda`, a near-copy of the best passage gives way to one that adds
/// something; without it, relevance order keeps both copies on top.
#[tokio::test]
async fn diversified_search_trades_a_near_copy_for_a_different_passage() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "docs/policy.txt",
        "Refunds for damaged parcels are paid in full within fourteen days of the claim.",
    );
    write(
        dir.path(),
        "docs/policy-copy.txt",
        "Refunds for damaged parcels are paid in full within fourteen days of a claim.",
    );
    write(
        dir.path(),
        "docs/store-credit.txt",
        "Refunds can also be taken as store credit, which never expires.",
    );
    let query = "refunds for damaged parcels paid in full";
    let top_two = |mmr: Option<f32>| {
        let dir = dir.path().to_owned();
        async move {
            let mut settings = Settings {
                data_dir: dir.join(format!("data-{mmr:?}")),
                models_dir: dir.join("no-models"),
                ..Settings::default()
            };
            settings.embedder.kind = EmbedderKind::Hashing;
            settings.retrieval.mmr_lambda = mmr;
            settings.store.url = store_url(&settings.data_dir).await;
            let app = Brandpilot::open(settings, PdfRunner::InProcess)
                .await
                .unwrap();
            let brand = app.brand("northwind", true).await.unwrap();
            app.ingest_paths(&brand, &[dir.join("docs")], &[], &Quiet)
                .await
                .unwrap();
            let results = app
                .search(&brand, query, 2, SearchMode::Hybrid, &[])
                .await
                .unwrap();
            let mut titles: Vec<String> = results
                .passages
                .iter()
                .map(|p| p.source_title.clone())
                .collect();
            titles.sort();
            titles
        }
    };
    assert_eq!(top_two(None).await, ["policy", "policy-copy"]);
    let diversified = top_two(Some(0.3)).await;
    assert!(
        diversified.contains(&"store-credit".to_owned())
            && diversified
                .iter()
                .filter(|t| t.starts_with("policy"))
                .count()
                == 1,
        "{diversified:?}"
    );
}
