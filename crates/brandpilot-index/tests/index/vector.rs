//! Vector index: round trips, replay, persistence and crash safety, filtered search on both
//! the exact and the graph path, and agreement with brute force.

use super::fixtures::{Random, brute_force, chunk, ids, with_tags, with_vector};
use brandpilot_core::{BrandId, ChunkId, SearchFilter, SourceId};
use brandpilot_index::similarity::{dot, normalize};
use brandpilot_index::{IndexError, IndexedChunk, VectorConfig, VectorIndex, Watermark};
use std::path::Path;

const DIMENSIONS: usize = 32;

fn brand(id: i64) -> SearchFilter {
    SearchFilter::brand(BrandId(id))
}

/// A config whose graph path is taken for every search.
fn graph_only() -> VectorConfig {
    VectorConfig {
        exact_threshold: 0,
        ..VectorConfig::default()
    }
}

fn random_chunks(random: &mut Random, count: i64, brand: i64) -> Vec<IndexedChunk> {
    (0..count)
        .map(|i| {
            let vector = random.unit_vector(DIMENSIONS);
            with_vector(chunk(i, brand, i % 7, ""), vector)
        })
        .collect()
}

fn open(dir: &Path) -> VectorIndex {
    VectorIndex::open(dir, DIMENSIONS).expect("open")
}

#[test]
fn finds_upserted_vectors_and_forgets_deleted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(1);
    let chunks = random_chunks(&mut random, 50, 1);
    let index = open(dir.path());
    index.upsert(&chunks).unwrap();
    assert_eq!(index.len().unwrap(), 50);

    let hits = index.search(&chunks[17].vector, &brand(1), 3).unwrap();
    assert_eq!(hits[0].0, ChunkId(17));
    assert!(
        (hits[0].1 - 1.0).abs() < 1e-5,
        "cosine with itself is 1, got {}",
        hits[0].1
    );
    assert_eq!(hits.len(), 3);

    index.delete(&[ChunkId(17), ChunkId(999)]).unwrap();
    let hits = index.search(&chunks[17].vector, &brand(1), 50).unwrap();
    assert!(!ids(&hits).contains(&17));
    assert_eq!(hits.len(), 49);
    assert_eq!(index.len().unwrap(), 49);
}

#[test]
fn replaying_an_upsert_leaves_one_vector_with_the_new_value() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(2);
    let first = with_vector(chunk(5, 1, 1, ""), random.unit_vector(DIMENSIONS));
    let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
    index.upsert(&[first.clone(), first.clone()]).unwrap();
    index.upsert(std::slice::from_ref(&first)).unwrap();
    assert_eq!(index.len().unwrap(), 1);
    assert_eq!(
        ids(&index.search(&first.vector, &brand(1), 10).unwrap()),
        vec![5]
    );

    let moved = with_vector(chunk(5, 1, 1, ""), random.unit_vector(DIMENSIONS));
    index.upsert(std::slice::from_ref(&moved)).unwrap();
    let hits = index.search(&moved.vector, &brand(1), 10).unwrap();
    assert_eq!(ids(&hits), vec![5]);
    assert!((hits[0].1 - 1.0).abs() < 1e-5);
}

#[test]
fn saved_state_and_watermark_survive_reopening_and_unsaved_changes_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(3);
    let chunks = random_chunks(&mut random, 20, 1);
    let saved = Watermark {
        last_chunk: 19,
        last_deletion: 4,
    };
    {
        let index = open(dir.path());
        assert_eq!(index.watermark().unwrap(), Watermark::default());
        index.upsert(&chunks).unwrap();
        index.delete(&[ChunkId(3)]).unwrap();
        index.save(saved).unwrap();
        assert_eq!(index.watermark().unwrap(), saved);
        index.delete(&[ChunkId(4)]).unwrap();
    }
    let index = open(dir.path());
    assert_eq!(index.watermark().unwrap(), saved);
    assert_eq!(index.len().unwrap(), 19);
    let hits = index.search(&chunks[3].vector, &brand(1), 20).unwrap();
    assert!(!ids(&hits).contains(&3), "deleted before the save");
    assert!(ids(&hits).contains(&4), "deleted after the save");
    // The graph path must not return the deleted chunk either.
    drop(index);
    let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
    assert!(!ids(&index.search(&chunks[3].vector, &brand(1), 20).unwrap()).contains(&3));

    index.clear().unwrap();
    drop(index);
    let index = open(dir.path());
    assert_eq!(index.len().unwrap(), 0);
    assert_eq!(index.watermark().unwrap(), Watermark::default());
}

#[test]
fn an_interrupted_save_leaves_the_last_complete_generation() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(4);
    let chunks = random_chunks(&mut random, 10, 1);
    let saved = Watermark {
        last_chunk: 9,
        last_deletion: 0,
    };
    let index = open(dir.path());
    index.upsert(&chunks).unwrap();
    index.save(saved).unwrap();
    drop(index);

    // Debris of saves that died at different points: a half-written staging directory, a
    // renamed generation whose files are torn, and a half-written manifest.
    let entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(entries.contains(&"CURRENT".to_owned()), "{entries:?}");
    let next = dir.path().join("gen-0000000000000002.partial");
    std::fs::create_dir(&next).unwrap();
    std::fs::write(next.join("vectors.usearch"), b"half a header").unwrap();
    let torn = dir.path().join("gen-0000000000000003");
    std::fs::create_dir(&torn).unwrap();
    std::fs::write(torn.join("vectors.usearch"), b"").unwrap();
    std::fs::write(torn.join("catalog.json"), b"{\"tag_names\":[").unwrap();
    std::fs::write(dir.path().join("CURRENT.tmp"), b"{\"generation\":3").unwrap();

    let index = open(dir.path());
    assert_eq!(index.watermark().unwrap(), saved);
    assert_eq!(index.len().unwrap(), 10);
    assert_eq!(
        index.search(&chunks[2].vector, &brand(1), 1).unwrap()[0].0,
        ChunkId(2)
    );
    assert!(
        !next.exists() && !torn.exists(),
        "debris is cleaned up on open"
    );

    // Saving again after recovery works and supersedes the old generation.
    index.delete(&[ChunkId(2)]).unwrap();
    index
        .save(Watermark {
            last_chunk: 9,
            last_deletion: 1,
        })
        .unwrap();
    drop(index);
    let index = open(dir.path());
    assert_eq!(index.len().unwrap(), 9);
    assert_eq!(index.watermark().unwrap().last_deletion, 1);
}

#[test]
fn a_truncated_live_generation_is_reported_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(5);
    let index = open(dir.path());
    index.upsert(&random_chunks(&mut random, 5, 1)).unwrap();
    index.save(Watermark::default()).unwrap();
    drop(index);
    let vectors = dir
        .path()
        .join("gen-0000000000000001")
        .join("vectors.usearch");
    let length = std::fs::metadata(&vectors).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&vectors)
        .unwrap()
        .set_len(length / 2)
        .unwrap();
    assert!(matches!(
        VectorIndex::open(dir.path(), DIMENSIONS),
        Err(IndexError::Corrupt { .. })
    ));
}

/// Brand A holds 5 vectors; brand B holds 5,000 vectors all closer to the query.
fn crowded_brands(config: VectorConfig) {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(6);
    let query = random.unit_vector(DIMENSIONS);
    let mut chunks = random_chunks(&mut random, 5, 1);
    chunks.extend((0..5_000).map(|i| {
        let vector = random.near(&query, 0.2);
        with_vector(chunk(1_000 + i, 2, 99, ""), vector)
    }));
    let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, config).unwrap();
    index.upsert(&chunks).unwrap();

    let hits = index.search(&query, &brand(1), 5).unwrap();
    let mut found = ids(&hits);
    found.sort_unstable();
    assert_eq!(found, vec![0, 1, 2, 3, 4]);
    assert!(index.search(&query, &brand(3), 5).unwrap().is_empty());
    let other = index.search(&query, &brand(2), 5).unwrap();
    assert_eq!(other.len(), 5);
    assert!(ids(&other).iter().all(|id| *id >= 1_000));
}

#[test]
fn a_small_brand_gets_its_k_results_on_the_exact_path() {
    crowded_brands(VectorConfig::default());
}

#[test]
fn a_small_brand_gets_its_k_results_on_the_graph_path() {
    crowded_brands(graph_only());
}

#[test]
fn source_and_tag_filters_hold_on_both_paths() {
    for config in [VectorConfig::default(), graph_only()] {
        let dir = tempfile::tempdir().unwrap();
        let mut random = Random::new(7);
        let chunks: Vec<IndexedChunk> = (0..300)
            .map(|i| {
                let tags: &[&str] = match i % 3 {
                    0 => &["web"],
                    1 => &["email", "promo"],
                    _ => &[],
                };
                with_vector(
                    with_tags(chunk(i, 1, i % 10, ""), tags),
                    random.unit_vector(DIMENSIONS),
                )
            })
            .collect();
        let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, config).unwrap();
        index.upsert(&chunks).unwrap();
        let query = random.unit_vector(DIMENSIONS);

        let mut filter = brand(1);
        filter.sources = Some(vec![SourceId(3), SourceId(4)]);
        let expected = brute_force(&chunks, &query, |c| [3, 4].contains(&c.source.0), 10);
        assert_eq!(ids(&index.search(&query, &filter, 10).unwrap()), expected);

        filter.tags = vec!["promo".into(), "nothing".into()];
        let admit = |c: &IndexedChunk| {
            [3, 4].contains(&c.source.0) && c.tags.iter().any(|tag| tag == "promo")
        };
        let hits = index.search(&query, &filter, 10).unwrap();
        assert_eq!(ids(&hits), brute_force(&chunks, &query, admit, 10));

        filter.tags = vec!["nothing".into()];
        assert!(index.search(&query, &filter, 10).unwrap().is_empty());
    }
}

#[test]
fn the_exact_path_equals_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(8);
    let mut chunks = random_chunks(&mut random, 1_500, 1);
    for (position, chunk) in chunks.iter_mut().enumerate() {
        chunk.brand = BrandId(1 + (position % 2) as i64);
    }
    let index = open(dir.path());
    index.upsert(&chunks).unwrap();
    for _ in 0..20 {
        let query = random.unit_vector(DIMENSIONS);
        let hits = index.search(&query, &brand(2), 10).unwrap();
        assert_eq!(
            ids(&hits),
            brute_force(&chunks, &query, |c| c.brand.0 == 2, 10)
        );
        // Scores are the cosines themselves.
        for (id, score) in &hits {
            let vector = &chunks.iter().find(|c| c.chunk_id == *id).unwrap().vector;
            let cosine: f32 = vector.iter().zip(&query).map(|(a, b)| a * b).sum();
            assert!((score - cosine).abs() < 1e-5);
        }
    }
}

#[test]
fn the_graph_path_recalls_at_least_95_percent_of_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(9);
    let chunks = random_chunks(&mut random, 3_000, 1);
    let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
    index.upsert(&chunks).unwrap();
    let queries = 50;
    let mut found = 0;
    for _ in 0..queries {
        let query = random.unit_vector(DIMENSIONS);
        let expected = brute_force(&chunks, &query, |_| true, 10);
        let hits = ids(&index.search(&query, &brand(1), 10).unwrap());
        found += expected.iter().filter(|id| hits.contains(id)).count();
    }
    let recall = found as f64 / (queries * 10) as f64;
    assert!(recall >= 0.95, "recall@10 {recall}");
}

#[test]
fn wrong_dimensions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let short = with_vector(chunk(1, 1, 1, ""), vec![1.0; DIMENSIONS - 1]);
    assert!(matches!(
        index.upsert(&[short]),
        Err(IndexError::Dimensions { .. })
    ));
    assert!(index.search(&[1.0; 3], &brand(1), 1).is_err());
    index.save(Watermark::default()).unwrap();
    drop(index);
    assert!(matches!(
        VectorIndex::open(dir.path(), 8),
        Err(IndexError::Dimensions { .. })
    ));
}

#[test]
fn within_one_batch_the_last_version_of_a_chunk_wins() {
    // A batch is inserted by several threads at once; a chunk listed twice must still end
    // as one vector holding its later value, as two sequential upserts would leave it.
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(21);
    let mut batch = random_chunks(&mut random, 500, 1);
    let stale = with_vector(chunk(7, 1, 1, ""), random.unit_vector(DIMENSIONS));
    let fresh = with_vector(chunk(7, 1, 1, ""), random.unit_vector(DIMENSIONS));
    batch.insert(3, stale.clone());
    batch.push(fresh.clone());
    let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
    index.upsert(&batch).unwrap();
    assert_eq!(index.len().unwrap(), 500);
    let hits = index.search(&fresh.vector, &brand(1), 1).unwrap();
    assert_eq!(ids(&hits), vec![7]);
    assert!((hits[0].1 - 1.0).abs() < 1e-5, "holds the later vector");
}

/// A sync that writes without saving records how far it got, so the next one continues
/// there; a restart forgets it and continues from the last save, and saving or clearing
/// moves it with the watermark.
#[test]
fn the_applied_mark_runs_ahead_of_the_saved_one_until_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(12);
    let chunks = random_chunks(&mut random, 10, 1);
    let saved = Watermark {
        last_chunk: 4,
        last_deletion: 1,
    };
    let applied = Watermark {
        last_chunk: 9,
        last_deletion: 2,
    };
    {
        let index = open(dir.path());
        index.upsert(&chunks[..5]).unwrap();
        index.save(saved).unwrap();
        assert_eq!(index.applied().unwrap(), saved);
        index.upsert(&chunks[5..]).unwrap();
        index.set_applied(applied).unwrap();
        assert_eq!(index.applied().unwrap(), applied);
        assert_eq!(index.watermark().unwrap(), saved);
        assert_eq!(
            index.len().unwrap(),
            10,
            "written vectors are searchable at once"
        );
    }
    let index = open(dir.path());
    assert_eq!(index.applied().unwrap(), saved);
    assert_eq!(index.len().unwrap(), 5);
    index.clear().unwrap();
    assert_eq!(index.applied().unwrap(), Watermark::default());
}

/// The graph is walked with our own inner product (usearch's f32 kernel widens to f64 one
/// lane group at a time, much slower), also after the index is loaded from disk, which
/// restores usearch's built-in metric. The graph path's scores are then exactly `dot`.
#[test]
fn the_graph_scores_with_our_inner_product_before_and_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(13);
    let chunks = random_chunks(&mut random, 300, 1);
    let check = |index: &VectorIndex, random: &mut Random| {
        for _ in 0..20 {
            let query = random.unit_vector(DIMENSIONS);
            for (id, score) in index.search(&query, &brand(1), 10).unwrap() {
                // The index normalises what goes in, queries included.
                let mut vector = chunks
                    .iter()
                    .find(|c| c.chunk_id == id)
                    .unwrap()
                    .vector
                    .clone();
                let mut query = query.clone();
                normalize(&mut vector);
                normalize(&mut query);
                let expected = 1.0 - (1.0 - dot(&vector, &query));
                assert_eq!(score.to_bits(), expected.to_bits(), "chunk {id:?}");
            }
        }
    };
    let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
    index.upsert(&chunks).unwrap();
    check(&index, &mut random);
    index.save(Watermark::default()).unwrap();
    drop(index);
    let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
    check(&index, &mut random);
}

/// A server searches from as many threads as it has requests in flight; the graph has a
/// fixed number of search slots, so searches must wait for one rather than fail. Also after
/// reopening, when the loaded graph had no slots reserved yet.
#[test]
fn many_threads_search_the_graph_at_once_before_and_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let mut random = Random::new(21);
    let chunks = random_chunks(&mut random, 3_000, 1);
    let queries: Vec<Vec<f32>> = (0..32).map(|_| random.unit_vector(DIMENSIONS)).collect();
    let search_from_32_threads = |index: &VectorIndex| {
        std::thread::scope(|scope| {
            for query in &queries {
                scope.spawn(move || {
                    for _ in 0..20 {
                        let hits = index.search(query, &brand(1), 10).expect("search");
                        assert_eq!(hits.len(), 10);
                    }
                });
            }
        });
    };
    {
        let index = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
        index.upsert(&chunks).unwrap();
        index
            .save(Watermark {
                last_chunk: 3_000,
                last_deletion: 0,
            })
            .unwrap();
        search_from_32_threads(&index);
    }
    let reopened = VectorIndex::open_with_config(dir.path(), DIMENSIONS, graph_only()).unwrap();
    search_from_32_threads(&reopened);
}
