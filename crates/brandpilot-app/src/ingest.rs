//! Ingestion: files → extracted blocks → chunks → embeddings → store, then the indexes.
//!
//! Per source, the store is written in one transaction, after extraction and embedding have
//! succeeded, so a crash at any point leaves each source either as it was or fully replaced.
//! A source whose stored hash equals the new one is skipped without being read further; the
//! hash covers the file's bytes and everything that shapes its chunks (chunker version,
//! tokenizer, budget), so changing those re-chunks on the next run. Failures are recorded per
//! source and the batch continues.

use crate::{AppError, Brandpilot, Result, blocking};
use brandpilot_core::{ContentHash, SourceKind};
use brandpilot_extract::{Block, ExtractedDocument, detect_kind};
use brandpilot_knowledge::chunk::chunk_blocks;
use brandpilot_store::{Brand, NewChunk, NewSource, SourceUpdate};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
        let mut since_sync = 0;
        for (done, path) in files.iter().enumerate() {
            let origin = origin_of(path);
            let result = self.ingest_file(brand, path, &origin, tags).await;
            self.record_outcome(&mut report, &mut since_sync, &origin, result, observer)
                .await?;
            self.store
                .update_job(job, "running", done as u64 + 1, files.len() as u64, None)
                .await?;
        }
        self.sync_indexes().await?;
        self.store
            .update_job(job, "done", files.len() as u64, files.len() as u64, None)
            .await?;
        report.seconds = started.elapsed().as_secs_f64();
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
        let started = Instant::now();
        observer.started(documents.len());
        let mut report = IngestReport::default();
        let mut since_sync = 0;
        for document in documents {
            let blocks = text_blocks(&document);
            let source = SourceInput {
                origin: document.origin.clone(),
                kind: SourceKind::Text,
                fallback_title: document.title.clone(),
                bytes_hash: ContentHash::of_parts(&[
                    document.title.as_bytes(),
                    document.text.as_bytes(),
                ]),
                byte_size: document.text.len() as u64,
            };
            let extracted = ExtractedDocument {
                kind: SourceKind::Text,
                title: Some(document.title),
                blocks,
            };
            let result = self
                .store_source(brand, source, tags, |_| Ok(extracted))
                .await;
            self.record_outcome(
                &mut report,
                &mut since_sync,
                &document.origin,
                result,
                observer,
            )
            .await?;
        }
        self.sync_indexes().await?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Tallies one source's outcome, tells the observer, and syncs the indexes when enough
    /// chunks have been stored since the last sync. A source's failure is its own outcome;
    /// only a failure to sync ends the batch.
    async fn record_outcome(
        &self,
        report: &mut IngestReport,
        since_sync: &mut usize,
        origin: &str,
        result: Result<(FileOutcome, usize)>,
        observer: &dyn IngestObserver,
    ) -> Result<()> {
        let outcome = match result {
            Ok((outcome, embedded)) => {
                report.embedded += embedded;
                outcome
            }
            Err(error) => FileOutcome::Failed {
                reason: error.to_string(),
            },
        };
        if let FileOutcome::Added { chunks } | FileOutcome::Updated { chunks } = outcome {
            *since_sync += chunks;
        }
        report.record(origin, &outcome);
        observer.finished_one(origin, &outcome);
        if *since_sync >= self.settings.ingest.sync_every_chunks {
            self.sync_indexes().await?;
            *since_sync = 0;
        }
        Ok(())
    }

    async fn ingest_file(
        &self,
        brand: &Brand,
        path: &Path,
        origin: &str,
        tags: &[String],
    ) -> Result<(FileOutcome, usize)> {
        let limit = self.extractor.limits().max_file_bytes;
        let read_path = path.to_path_buf();
        let bytes = blocking(move || read_capped(&read_path, limit)).await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let head = &bytes[..bytes.len().min(4096)];
        let source = SourceInput {
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
        self.store_source(brand, source, tags, move |_| {
            Ok(extractor.extract_bytes(&name, &bytes)?)
        })
        .await
    }

    /// The shared path of every source: skip if unchanged, else extract, chunk, embed and
    /// store. Returns the outcome and how many chunks had to be embedded (cache misses).
    async fn store_source<F>(
        &self,
        brand: &Brand,
        input: SourceInput,
        tags: &[String],
        extract: F,
    ) -> Result<(FileOutcome, usize)>
    where
        F: FnOnce(()) -> Result<ExtractedDocument> + Send + 'static,
    {
        let mut tags = tags.to_vec();
        tags.sort();
        tags.dedup();
        let content_hash =
            ContentHash::of_parts(&[&input.bytes_hash.0, self.pipeline_fingerprint.as_bytes()]);
        let existing = self.store.find_source(brand.id, &input.origin).await?;
        if let Some(existing) = &existing
            && existing.content_hash == Some(content_hash)
            && existing.tags == tags
        {
            return Ok((FileOutcome::Unchanged, 0));
        }
        let source = self
            .store
            .begin_source(
                brand.id,
                &NewSource {
                    kind: input.kind,
                    origin: input.origin.clone(),
                    title: input.fallback_title.clone(),
                    tags: tags.clone(),
                    byte_size: input.byte_size,
                },
            )
            .await?;
        let counter = self.counter.clone();
        let chunking = self.chunking;
        let prepared = blocking(move || {
            let document = extract(())?;
            let chunks = chunk_blocks(&document.blocks, chunking, counter.as_ref());
            Ok((document, chunks))
        })
        .await;
        let (document, chunks) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                self.store
                    .mark_source_failed(source, &error.to_string())
                    .await?;
                return Err(error);
            }
        };
        if chunks.is_empty() {
            let error = AppError::Extract(brandpilot_extract::ExtractError::Empty);
            self.store
                .mark_source_failed(source, &error.to_string())
                .await?;
            return Err(error);
        }
        let new_chunks: Vec<NewChunk> = chunks
            .into_iter()
            .map(|chunk| NewChunk {
                content_hash: ContentHash::of(chunk.text.as_bytes()),
                token_count: chunk.token_count as u32,
                text: chunk.text,
                locator: chunk.locator,
            })
            .collect();
        let embedded = match self.ensure_embeddings(&new_chunks).await {
            Ok(embedded) => embedded,
            Err(error) => {
                self.store
                    .mark_source_failed(source, &error.to_string())
                    .await?;
                return Err(error);
            }
        };
        let title = document
            .title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(input.fallback_title);
        let update = SourceUpdate {
            kind: document.kind,
            title,
            tags,
            content_hash,
            byte_size: input.byte_size,
        };
        self.store
            .replace_chunks(source, &update, &new_chunks)
            .await?;
        let chunks = new_chunks.len();
        let outcome = if existing.is_some() {
            FileOutcome::Updated { chunks }
        } else {
            FileOutcome::Added { chunks }
        };
        Ok((outcome, embedded))
    }

    /// Embeds the chunks whose text has no cached embedding for the current model.
    async fn ensure_embeddings(&self, chunks: &[NewChunk]) -> Result<usize> {
        let model = self.embedder.model_id().to_owned();
        let hashes: Vec<ContentHash> = chunks.iter().map(|c| c.content_hash).collect();
        let cached = self.store.cached_embeddings(&model, &hashes).await?;
        let mut missing: Vec<(ContentHash, String)> = Vec::new();
        for chunk in chunks {
            if !cached.contains_key(&chunk.content_hash)
                && !missing.iter().any(|(hash, _)| *hash == chunk.content_hash)
            {
                missing.push((chunk.content_hash, chunk.text.clone()));
            }
        }
        self.embed_and_cache(missing).await
    }

    /// Embeds texts in batches and stores the vectors under their content hashes.
    pub(crate) async fn embed_and_cache(&self, texts: Vec<(ContentHash, String)>) -> Result<usize> {
        if texts.is_empty() {
            return Ok(0);
        }
        let count = texts.len();
        let embedder = self.embedder.clone();
        let batch = self.settings.embedder.batch_size.max(1);
        let rows = blocking(move || {
            let mut rows = Vec::with_capacity(texts.len());
            for group in texts.chunks(batch) {
                let inputs: Vec<&str> = group.iter().map(|(_, text)| text.as_str()).collect();
                let vectors = embedder.embed(&inputs)?;
                rows.extend(group.iter().map(|(hash, _)| *hash).zip(vectors));
            }
            Ok(rows)
        })
        .await?;
        self.store
            .put_embeddings(self.embedder.model_id(), &rows)
            .await?;
        Ok(count)
    }
}

struct SourceInput {
    origin: String,
    kind: SourceKind,
    fallback_title: String,
    bytes_hash: ContentHash,
    byte_size: u64,
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
