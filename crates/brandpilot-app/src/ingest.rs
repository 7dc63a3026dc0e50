//! Ingestion: files → extracted blocks → chunks → embeddings → store, then the indexes.
//!
//! Sources go through in groups: each group's sources are written in one transaction, after
//! extraction and embedding have succeeded, so a crash at any point leaves each source
//! either as it was or fully replaced.
//! A source whose stored hash equals the new one is skipped without being read further; the
//! hash covers the file's bytes and everything that shapes its chunks (chunker version,
//! tokenizer, budget), so changing those re-chunks on the next run. Failures are recorded per
//! source and the batch continues.

use crate::handoff::{self, Handoff};
use crate::sync::Durability;
use crate::{AppError, Brandpilot, Result, blocking};
use brandpilot_core::{ContentHash, SourceKind};
use brandpilot_extract::{Block, ExtractedDocument, detect_kind};
use brandpilot_index::IndexedChunk;
use brandpilot_knowledge::chunk::chunk_blocks;
use brandpilot_store::{Brand, JobStatus, NewChunk, NewSource, SourceUpdate, SourceWrite};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::sync::watch;

/// Bumped whenever chunking or extraction changes what a file turns into.
pub(crate) const PIPELINE_VERSION: &str = "ingest-v1";

/// What happened to one input.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FileOutcome {
    Added { chunks: usize },
    Updated { chunks: usize },
    Unchanged,
    Failed { reason: String },
}

/// Told about progress, so the CLI can draw a bar and the server can push events.
pub trait IngestObserver: Send + Sync {
    fn started(&self, _total: usize) {}
    fn finished_one(&self, _origin: &str, _outcome: &FileOutcome) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl IngestObserver for Quiet {}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    pub files: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: Vec<(String, String)>,
    pub chunks: usize,
    pub embedded: usize,
    pub seconds: f64,
    /// Of `seconds`, the time spent after the last store write bringing the search indexes
    /// up to date and durable: what index work could not overlap with the pipeline.
    pub index_seconds: f64,
    /// All index work done by the follower while ingesting; all but its last round
    /// overlapped the pipeline (that round is also in `index_seconds`).
    pub index_overlapped_seconds: f64,
}

impl IngestReport {
    fn record(&mut self, origin: &str, outcome: &FileOutcome) {
        self.files += 1;
        match outcome {
            FileOutcome::Added { chunks } => {
                self.added += 1;
                self.chunks += chunks;
            }
            FileOutcome::Updated { chunks } => {
                self.updated += 1;
                self.chunks += chunks;
            }
            FileOutcome::Unchanged => self.unchanged += 1,
            FileOutcome::Failed { reason } => self.failed.push((origin.to_owned(), reason.clone())),
        }
    }
}

/// A document that is already text (benchmark corpora, API payloads): no file to extract.
#[derive(Debug, Clone)]
pub struct TextDocument {
    pub origin: String,
    pub title: String,
    pub text: String,
}

/// Sources prepared, embedded and written to the store together. Each source costs several
/// round trips between the async runtime, the blocking pool and SQLite's worker thread;
/// paying them once per group instead of once per source is what lets small sources ingest
/// at thousands per second, and it packs short chunks of many sources into full embedder
/// batches.
const TEXTS_PER_GROUP: usize = 64;
/// Files are larger and slower to extract; smaller groups keep progress moving.
const FILES_PER_GROUP: usize = 16;
/// Stored chunks an ingestion holds in memory for its index follower (about 2.5 KB each
/// at 384 dimensions); beyond it, the follower reads them back from the store.
const HANDOFF_CAPACITY: usize = 8_192;

type Extraction = Box<dyn FnOnce() -> Result<ExtractedDocument> + Send>;

/// One source ready to be checked against the store and, if changed, extracted.
pub(crate) struct PendingSource {
    input: SourceInput,
    extract: Extraction,
}

/// A source extracted and chunked, waiting for its embeddings and its write.
struct PreparedSource {
    position: usize,
    existed: bool,
    write: SourceWrite,
}

type SourceResult = Result<(FileOutcome, usize)>;

/// What storing one group gave: each input's result, and the chunks it stored as the
/// indexes take them, for the ingestion's [`Handoff`].
pub(crate) struct StoredGroup {
    pub results: Vec<SourceResult>,
    pub indexed: Vec<IndexedChunk>,
}

impl Brandpilot {
    /// Ingests files and directories (recursively) into `brand`.
    pub async fn ingest_paths(
        &self,
        brand: &Brand,
        paths: &[PathBuf],
        tags: &[String],
        observer: &dyn IngestObserver,
    ) -> Result<IngestReport> {
        let started = Instant::now();
        let inputs = paths.to_vec();
        let files = blocking(move || Ok(brandpilot_extract::walk(&inputs)?)).await?;
        let job = self
            .store
            .create_job(
                brand.workspace,
                "ingest",
                &serde_json::json!({ "brand": brand.name, "paths": paths, "tags": tags }),
            )
            .await?;
        observer.started(files.len());
        let mut report = IngestReport::default();
        let (stored_chunks, progress) = tokio::sync::watch::channel(0usize);
        let handoff = Handoff::new(HANDOFF_CAPACITY);
        let pipeline = async {
            let mut done = 0;
            for group in files.chunks(FILES_PER_GROUP) {
                if stored_chunks.is_closed() {
                    break; // The index follower failed; its error ends the ingestion.
                }
                let origins: Vec<String> = group.iter().map(|path| origin_of(path)).collect();
                let limit = self.extractor.limits().max_file_bytes;
                let paths = group.to_vec();
                let read = blocking(move || {
                    Ok(paths
                        .iter()
                        .map(|path| read_capped(path, limit).map(|bytes| (path.clone(), bytes)))
                        .collect::<Vec<_>>())
                })
                .await?;
                let mut results: Vec<Option<SourceResult>> = Vec::new();
                let mut pending = Vec::new();
                for (origin, read) in origins.iter().zip(read) {
                    match read {
                        Ok((path, bytes)) => {
                            results.push(None);
                            pending.push(self.pending_file(&path, origin, bytes));
                        }
                        Err(error) => results.push(Some(Err(error))),
                    }
                }
                let stored = self.store_sources(brand, pending, tags).await?;
                handoff.offer(stored.indexed);
                let mut stored = stored.results.into_iter();
                let mut chunks = 0;
                for (origin, result) in origins.iter().zip(results) {
                    let result = match result {
                        Some(failed) => failed,
                        None => stored.next().unwrap_or_else(|| {
                            Err(AppError::Task("a source lost its outcome".into()))
                        }),
                    };
                    chunks += record_outcome(&mut report, origin, result, observer);
                }
                stored_chunks.send_modify(|total| *total += chunks);
                done += group.len();
                self.store
                    .update_job(
                        job,
                        JobStatus::Running,
                        done as u64,
                        files.len() as u64,
                        None,
                    )
                    .await?;
            }
            drop(stored_chunks);
            Ok::<Instant, AppError>(Instant::now())
        };
        let (piped, followed) = tokio::join!(pipeline, self.follow_ingestion(progress, &handoff));
        let last_stored = piped?;
        report.index_overlapped_seconds += followed?;
        self.finish_sync(&mut report, last_stored).await?;
        self.store
            .update_job(
                job,
                JobStatus::Succeeded,
                files.len() as u64,
                files.len() as u64,
                None,
            )
            .await?;
        report.seconds = started.elapsed().as_secs_f64();
        self.metrics.record_ingest(&report);
        Ok(report)
    }

    /// Ingests documents that are already text, one source each.
    pub async fn ingest_texts(
        &self,
        brand: &Brand,
        documents: Vec<TextDocument>,
        tags: &[String],
        observer: &dyn IngestObserver,
    ) -> Result<IngestReport> {
        let pending = documents
            .into_iter()
            .map(|document| (document.origin.clone(), pending_text(document)))
            .collect();
        self.ingest_pending(brand, pending, TEXTS_PER_GROUP, tags, observer)
            .await
    }

    /// Ingests files received as bytes (uploads). A file's origin is `upload:<name>`, so
    /// uploading a file of the same name again replaces it, or changes nothing when its
    /// bytes are the same. Names are used for the title and as a hint to the format, which
    /// is sniffed from the bytes.
    pub async fn ingest_bytes(
        &self,
        brand: &Brand,
        files: Vec<(String, Vec<u8>)>,
        tags: &[String],
        observer: &dyn IngestObserver,
    ) -> Result<IngestReport> {
        let limit = self.extractor.limits().max_file_bytes;
        let mut pending = Vec::with_capacity(files.len());
        let mut too_large = Vec::new();
        for (name, bytes) in files {
            let name = safe_file_name(&name);
            let origin = format!("upload:{name}");
            if bytes.len() as u64 > limit {
                too_large.push(origin);
                continue;
            }
            let source = self.pending_file(Path::new(&name), &origin, bytes);
            pending.push((origin, source));
        }
        let mut report = self
            .ingest_pending(brand, pending, FILES_PER_GROUP, tags, observer)
            .await?;
        for origin in too_large {
            report.files += 1;
            report.failed.push((
                origin,
                format!("the file is larger than the {limit}-byte limit"),
            ));
        }
        Ok(report)
    }

    /// Ingests a page fetched from `url` (its origin, so adding the URL again replaces it,
    /// or changes nothing when the page is the same). `name` is a format hint; the format
    /// is sniffed from the bytes.
    pub async fn ingest_fetched(
        &self,
        brand: &Brand,
        url: &str,
        name: &str,
        bytes: Vec<u8>,
        tags: &[String],
        observer: &dyn IngestObserver,
    ) -> Result<IngestReport> {
        let limit = self.extractor.limits().max_file_bytes;
        if bytes.len() as u64 > limit {
            return Err(AppError::InvalidInput(format!(
                "the page is larger than the {limit}-byte limit"
            )));
        }
        let source = self.pending_file(Path::new(&safe_file_name(name)), url, bytes);
        self.ingest_pending(brand, vec![(url.to_owned(), source)], 1, tags, observer)
            .await
    }

    /// The shared pipeline of texts and uploads: groups stored one after another while the
    /// index follower applies them, then a durable sync.
    async fn ingest_pending(
        &self,
        brand: &Brand,
        sources: Vec<(String, PendingSource)>,
        group_size: usize,
        tags: &[String],
        observer: &dyn IngestObserver,
    ) -> Result<IngestReport> {
        let started = Instant::now();
        observer.started(sources.len());
        let mut report = IngestReport::default();
        let (stored_chunks, progress) = tokio::sync::watch::channel(0usize);
        let handoff = Handoff::new(HANDOFF_CAPACITY);
        let pipeline = async {
            let mut sources = sources.into_iter().peekable();
            while sources.peek().is_some() && !stored_chunks.is_closed() {
                let (origins, pending): (Vec<String>, Vec<PendingSource>) =
                    sources.by_ref().take(group_size).unzip();
                let group = self.store_sources(brand, pending, tags).await?;
                handoff.offer(group.indexed);
                let mut chunks = 0;
                for (origin, result) in origins.iter().zip(group.results) {
                    chunks += record_outcome(&mut report, origin, result, observer);
                }
                stored_chunks.send_modify(|total| *total += chunks);
            }
            drop(stored_chunks);
            Ok::<Instant, AppError>(Instant::now())
        };
        let (piped, followed) = tokio::join!(pipeline, self.follow_ingestion(progress, &handoff));
        let last_stored = piped?;
        report.index_overlapped_seconds += followed?;
        self.finish_sync(&mut report, last_stored).await?;
        report.seconds = started.elapsed().as_secs_f64();
        self.metrics.record_ingest(&report);
        Ok(report)
    }

    /// The final durable sync. The index time that could not overlap the pipeline runs from
    /// the last store write (`last_stored`) until the indexes are durable, whether the
    /// follower's last round or this sync did that work.
    async fn finish_sync(&self, report: &mut IngestReport, last_stored: Instant) -> Result<()> {
        self.sync_indexes().await?;
        report.index_seconds = last_stored.elapsed().as_secs_f64();
        Ok(())
    }

    /// Applies what an ingestion stores to the indexes while it goes on storing, so index
    /// writes overlap extraction, embedding and store writes instead of following them.
    /// Each round applies everything stored so far without committing; a round commits when
    /// `sync_every_chunks` have been stored since the last commit. Returns the seconds spent
    /// once the ingestion has dropped its sender and the last round is done; the caller's
    /// durable sync then has only the tail left. Dropping the receiver on failure tells the
    /// ingestion to stop.
    async fn follow_ingestion(
        &self,
        mut stored_chunks: watch::Receiver<usize>,
        handoff: &Handoff,
    ) -> Result<f64> {
        let every = self.settings.ingest.sync_every_chunks;
        let mut committed_at = 0;
        let mut busy = 0.0;
        while stored_chunks.changed().await.is_ok() {
            let stored = *stored_chunks.borrow_and_update();
            let durability = if stored - committed_at >= every {
                committed_at = stored;
                Durability::Durable
            } else {
                Durability::Deferred
            };
            let started = Instant::now();
            self.sync_indexes_from(durability, Some(handoff)).await?;
            busy += started.elapsed().as_secs_f64();
        }
        Ok(busy)
    }

    fn pending_file(&self, path: &Path, origin: &str, bytes: Vec<u8>) -> PendingSource {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let head = &bytes[..bytes.len().min(4096)];
        let input = SourceInput {
            origin: origin.to_owned(),
            kind: detect_kind(path, head).unwrap_or(SourceKind::Text),
            fallback_title: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.clone()),
            bytes_hash: ContentHash::of(&bytes),
            byte_size: bytes.len() as u64,
        };
        let extractor = self.extractor.clone();
        PendingSource {
            input,
            extract: Box::new(move || Ok(extractor.extract_bytes(&name, &bytes)?)),
        }
    }

    /// The shared path of every source, a group at a time: skip the unchanged, extract and
    /// chunk the rest, embed what the cache lacks, and write all of them in one transaction.
    /// Returns, per input and in order, the outcome and how many chunks had to be embedded
    /// (cache misses), and the stored chunks ready for the indexes. A source's failure is
    /// its own result; a store failure is the group's.
    pub(crate) async fn store_sources(
        &self,
        brand: &Brand,
        pending: Vec<PendingSource>,
        tags: &[String],
    ) -> Result<StoredGroup> {
        let mut tags = tags.to_vec();
        tags.sort();
        tags.dedup();
        let origins: Vec<String> = pending.iter().map(|p| p.input.origin.clone()).collect();
        let existing = self.store.find_sources(brand.id, &origins).await?;
        let mut results: Vec<Option<SourceResult>> = Vec::with_capacity(pending.len());
        let mut to_extract = Vec::new();
        for (position, source) in pending.into_iter().enumerate() {
            let content_hash = ContentHash::of_parts(&[
                &source.input.bytes_hash.0,
                self.pipeline_fingerprint.as_bytes(),
            ]);
            let previous = existing.get(&source.input.origin);
            if let Some(previous) = previous
                && previous.content_hash == Some(content_hash)
                && previous.tags == tags
            {
                results.push(Some(Ok((FileOutcome::Unchanged, 0))));
                continue;
            }
            results.push(None);
            to_extract.push((position, previous.is_some(), content_hash, source));
        }
        let counter = self.counter.clone();
        let chunking = self.chunking;
        let extracted = blocking(move || {
            Ok(to_extract
                .into_iter()
                .map(|(position, existed, content_hash, source)| {
                    let PendingSource { input, extract } = source;
                    let prepared = extract().and_then(|document| {
                        let chunks = chunk_blocks(&document.blocks, chunking, counter.as_ref());
                        if chunks.is_empty() {
                            return Err(AppError::Extract(brandpilot_extract::ExtractError::Empty));
                        }
                        Ok((document, chunks))
                    });
                    (position, existed, content_hash, input, prepared)
                })
                .collect::<Vec<_>>())
        })
        .await?;
        let mut prepared = Vec::new();
        for (position, existed, content_hash, input, outcome) in extracted {
            match outcome {
                Ok((document, chunks)) => {
                    let title = document
                        .title
                        .filter(|t| !t.trim().is_empty())
                        .unwrap_or_else(|| input.fallback_title.clone());
                    prepared.push(PreparedSource {
                        position,
                        existed,
                        write: SourceWrite {
                            source: NewSource {
                                kind: input.kind,
                                origin: input.origin,
                                title: input.fallback_title,
                                tags: tags.clone(),
                                byte_size: input.byte_size,
                            },
                            update: SourceUpdate {
                                kind: document.kind,
                                title,
                                tags: tags.clone(),
                                content_hash,
                                byte_size: input.byte_size,
                            },
                            chunks: chunks
                                .into_iter()
                                .map(|chunk| NewChunk {
                                    content_hash: ContentHash::of(chunk.text.as_bytes()),
                                    token_count: chunk.token_count as u32,
                                    text: chunk.text,
                                    locator: chunk.locator,
                                })
                                .collect(),
                        },
                    });
                }
                Err(error) => {
                    let source = NewSource {
                        kind: input.kind,
                        origin: input.origin,
                        title: input.fallback_title,
                        tags: tags.clone(),
                        byte_size: input.byte_size,
                    };
                    self.record_failure(brand, &source, &error).await?;
                    results[position] = Some(Err(error));
                }
            }
        }
        // Embed the whole group at once; if that fails, find the source at fault by
        // embedding source by source, so one bad source fails alone.
        let all: Vec<&NewChunk> = prepared.iter().flat_map(|p| &p.write.chunks).collect();
        let mut embedded = vec![0; prepared.len()];
        let mut embedded_tokens = 0;
        let mut vectors = HashMap::new();
        match self.ensure_embeddings(&all).await {
            Ok(group) => {
                if let Some(first) = embedded.first_mut() {
                    *first = group.embedded;
                }
                embedded_tokens = group.tokens;
                vectors = group.vectors;
            }
            Err(_) => {
                let mut kept = Vec::with_capacity(prepared.len());
                for source in prepared {
                    let chunks: Vec<&NewChunk> = source.write.chunks.iter().collect();
                    match self.ensure_embeddings(&chunks).await {
                        Ok(group) => {
                            embedded[kept.len()] = group.embedded;
                            embedded_tokens += group.tokens;
                            vectors.extend(group.vectors);
                            kept.push(source);
                        }
                        Err(error) => {
                            self.record_failure(brand, &source.write.source, &error)
                                .await?;
                            results[source.position] = Some(Err(error));
                        }
                    }
                }
                prepared = kept;
            }
        }
        let (placed, writes): (Vec<(usize, bool)>, Vec<SourceWrite>) = prepared
            .into_iter()
            .map(|p| ((p.position, p.existed), p.write))
            .unzip();
        let written = self.store.write_sources(brand.id, &writes).await?;
        self.record_embedding_usage(brand, embedded_tokens).await;
        for ((position, existed), (write, embedded)) in
            placed.into_iter().zip(writes.iter().zip(embedded))
        {
            let chunks = write.chunks.len();
            let outcome = if existed {
                FileOutcome::Updated { chunks }
            } else {
                FileOutcome::Added { chunks }
            };
            results[position] = Some(Ok((outcome, embedded)));
        }
        let results = results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| Err(AppError::Task("a source lost its outcome".into())))
            })
            .collect();
        Ok(StoredGroup {
            results,
            indexed: handoff::indexed_chunks(brand, writes, &written, &vectors),
        })
    }

    /// Records a source's failure with its reason. Chunks from an earlier successful
    /// ingestion stay, but the source no longer counts as current, so the next run retries.
    async fn record_failure(
        &self,
        brand: &Brand,
        source: &NewSource,
        error: &AppError,
    ) -> Result<()> {
        let id = self.store.begin_source(brand.id, source).await?;
        self.store
            .mark_source_failed(id, &error.to_string())
            .await?;
        Ok(())
    }
}

/// The last component of a client-supplied file name, without control characters: never a
/// path, so `../../x` is just `x`.
fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    match cleaned.trim() {
        "" | "." | ".." => "upload".to_owned(),
        name => name.to_owned(),
    }
}

pub(crate) fn pending_text(document: TextDocument) -> PendingSource {
    let blocks = text_blocks(&document);
    let input = SourceInput {
        origin: document.origin.clone(),
        kind: SourceKind::Text,
        fallback_title: document.title.clone(),
        bytes_hash: ContentHash::of_parts(&[document.title.as_bytes(), document.text.as_bytes()]),
        byte_size: document.text.len() as u64,
    };
    let title = document.title;
    PendingSource {
        input,
        extract: Box::new(move || {
            Ok(ExtractedDocument {
                kind: SourceKind::Text,
                title: Some(title),
                blocks,
            })
        }),
    }
}

struct SourceInput {
    origin: String,
    kind: SourceKind,
    fallback_title: String,
    bytes_hash: ContentHash,
    byte_size: u64,
}

/// Tallies one source's outcome and tells the observer; returns how many chunks it stored.
/// A source's failure is its own outcome, never the batch's.
fn record_outcome(
    report: &mut IngestReport,
    origin: &str,
    result: SourceResult,
    observer: &dyn IngestObserver,
) -> usize {
    let outcome = match result {
        Ok((outcome, embedded)) => {
            report.embedded += embedded;
            outcome
        }
        Err(error) => FileOutcome::Failed {
            reason: error.to_string(),
        },
    };
    report.record(origin, &outcome);
    observer.finished_one(origin, &outcome);
    match outcome {
        FileOutcome::Added { chunks } | FileOutcome::Updated { chunks } => chunks,
        FileOutcome::Unchanged | FileOutcome::Failed { .. } => 0,
    }
}

/// A title block (a heading) followed by the text's paragraphs, so the title is part of the
/// first chunk's text, as a reader would see it.
fn text_blocks(document: &TextDocument) -> Vec<Block> {
    let title = document.title.trim();
    let mut blocks = Vec::new();
    if !title.is_empty() {
        blocks.push(Block {
            text: title.to_owned(),
            heading_path: vec![title.to_owned()],
            is_heading: true,
            ..Block::default()
        });
    }
    for paragraph in document
        .text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        blocks.push(Block {
            text: paragraph.to_owned(),
            heading_path: if title.is_empty() {
                Vec::new()
            } else {
                vec![title.to_owned()]
            },
            ..Block::default()
        });
    }
    blocks
}

/// The canonical absolute path identifies a file source within its brand.
fn origin_of(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let size = fs_err::metadata(path)
        .map_err(|source| AppError::Io {
            context: "cannot read file".into(),
            source,
        })?
        .len();
    if size > limit {
        return Err(AppError::Extract(
            brandpilot_extract::ExtractError::TooLarge {
                what: "file",
                limit_bytes: limit,
            },
        ));
    }
    fs_err::read(path).map_err(|source| AppError::Io {
        context: "cannot read file".into(),
        source,
    })
}
