//! BM25 index: round trips, idempotent replay, persistence, filters, hostile queries.

use super::fixtures::{chunk, ids, with_tags};
use brandpilot_core::{BrandId, ChunkId, SearchFilter, SourceId};
use brandpilot_index::{Bm25Config, Bm25Index, IndexError, IndexedChunk, Watermark};

fn brand(id: i64) -> SearchFilter {
    SearchFilter::brand(BrandId(id))
}

fn indexed(dir: &std::path::Path, chunks: &[IndexedChunk]) -> Bm25Index {
    let index = Bm25Index::open(dir).expect("open");
    index.upsert(chunks).expect("upsert");
    index
        .commit(Watermark {
            last_chunk: 1,
            last_deletion: 0,
        })
        .expect("commit");
    index
}

#[test]
fn finds_stemmed_words_and_forgets_deleted_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let index = indexed(
        dir.path(),
        &[
            chunk(
                1,
                1,
                10,
                "Our pricing changed: refunds are processed within 14 days.",
            ),
            chunk(2, 1, 10, "The office dog is called Biscuit."),
        ],
    );
    assert_eq!(index.len(), 2);
    // "refund" and "price" reach "refunds" and "pricing" through the stemmer.
    let hits = index.search("Refund price", &brand(1), 10).unwrap();
    assert_eq!(ids(&hits), vec![1]);
    assert!(hits[0].1 > 0.0);

    index.delete(&[ChunkId(1)]).unwrap();
    assert_eq!(
        ids(&index.search("refund", &brand(1), 10).unwrap()),
        vec![1],
        "not committed yet"
    );
    index
        .commit(Watermark {
            last_chunk: 2,
            last_deletion: 1,
        })
        .unwrap();
    assert!(index.search("refund", &brand(1), 10).unwrap().is_empty());
    assert_eq!(index.len(), 1);
}

#[test]
fn replaying_an_upsert_leaves_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let original = chunk(7, 1, 10, "launch checklist for the spring campaign");
    let index = indexed(dir.path(), &[original.clone(), original.clone()]);
    index.upsert(std::slice::from_ref(&original)).unwrap();
    index
        .commit(Watermark {
            last_chunk: 7,
            last_deletion: 0,
        })
        .unwrap();
    assert_eq!(
        ids(&index.search("campaign", &brand(1), 10).unwrap()),
        vec![7]
    );
    assert_eq!(index.len(), 1);

    // A replay with new text replaces the old text.
    index
        .upsert(&[chunk(7, 1, 10, "autumn newsletter")])
        .unwrap();
    index
        .commit(Watermark {
            last_chunk: 7,
            last_deletion: 0,
        })
        .unwrap();
    assert!(index.search("campaign", &brand(1), 10).unwrap().is_empty());
    assert_eq!(
        ids(&index.search("newsletter", &brand(1), 10).unwrap()),
        vec![7]
    );
}

#[test]
fn deletions_and_the_committed_watermark_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = Bm25Index::open(dir.path()).unwrap();
        assert_eq!(index.watermark().unwrap(), Watermark::default());
        index
            .upsert(&[chunk(1, 1, 1, "alpha"), chunk(2, 1, 1, "alpha beta")])
            .unwrap();
        index
            .commit(Watermark {
                last_chunk: 2,
                last_deletion: 0,
            })
            .unwrap();
        index.delete(&[ChunkId(1)]).unwrap();
        index
            .commit(Watermark {
                last_chunk: 2,
                last_deletion: 5,
            })
            .unwrap();
        // Written but never committed: must not survive.
        index.upsert(&[chunk(3, 1, 1, "alpha gamma")]).unwrap();
    }
    let index = Bm25Index::open(dir.path()).unwrap();
    assert_eq!(
        index.watermark().unwrap(),
        Watermark {
            last_chunk: 2,
            last_deletion: 5
        }
    );
    assert_eq!(ids(&index.search("alpha", &brand(1), 10).unwrap()), vec![2]);
    assert_eq!(index.len(), 1);

    index.clear().unwrap();
    assert_eq!(index.len(), 0);
    drop(index);
    let index = Bm25Index::open(dir.path()).unwrap();
    assert_eq!(index.watermark().unwrap(), Watermark::default());
    assert_eq!(index.len(), 0);
}

#[test]
fn a_small_brand_gets_its_k_results_beside_a_large_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut chunks: Vec<IndexedChunk> = (0..5)
        .map(|i| chunk(i, 1, 1, &format!("brand A note {i} mentions a refund once")))
        .collect();
    // Brand B matches the query far better, 5,000 times over.
    chunks.extend((0..5_000).map(|i| {
        chunk(
            1_000 + i,
            2,
            2,
            "refund policy refund policy for enterprise refund customers",
        )
    }));
    let index = indexed(dir.path(), &chunks);

    let hits = index
        .search("refund policy enterprise", &brand(1), 5)
        .unwrap();
    let mut found = ids(&hits);
    found.sort_unstable();
    assert_eq!(found, vec![0, 1, 2, 3, 4]);
    assert!(
        index.search("refund", &brand(3), 5).unwrap().is_empty(),
        "unknown brand"
    );
    let other = index
        .search("refund policy enterprise", &brand(2), 5)
        .unwrap();
    assert!(ids(&other).iter().all(|id| *id >= 1_000));
    assert_eq!(other.len(), 5);
}

#[test]
fn source_and_tag_filters_restrict_results() {
    let dir = tempfile::tempdir().unwrap();
    let index = indexed(
        dir.path(),
        &[
            with_tags(chunk(1, 1, 10, "summer sale banner"), &["web", "promo"]),
            with_tags(chunk(2, 1, 11, "summer sale email"), &["email"]),
            with_tags(chunk(3, 1, 12, "summer sale print"), &[]),
        ],
    );
    let mut filter = brand(1);
    filter.sources = Some(vec![SourceId(11), SourceId(12)]);
    let mut found = ids(&index.search("summer sale", &filter, 10).unwrap());
    found.sort_unstable();
    assert_eq!(found, vec![2, 3]);

    filter.sources = Some(Vec::new());
    assert!(
        index.search("summer", &filter, 10).unwrap().is_empty(),
        "no source admitted"
    );

    let mut filter = brand(1);
    filter.tags = vec!["promo".into(), "email".into()];
    let mut found = ids(&index.search("summer", &filter, 10).unwrap());
    found.sort_unstable();
    assert_eq!(found, vec![1, 2]);

    filter.sources = Some(vec![SourceId(10)]);
    assert_eq!(ids(&index.search("summer", &filter, 10).unwrap()), vec![1]);
    filter.tags = vec!["unknown".into()];
    assert!(index.search("summer", &filter, 10).unwrap().is_empty());
}

#[test]
fn any_text_is_a_valid_query() {
    let dir = tempfile::tempdir().unwrap();
    let index = indexed(dir.path(), &[chunk(1, 1, 1, "and or not: the quick fox")]);
    let long_query = "fox ".repeat(10_000);
    for query in [
        "AND \"(",
        "title:fox",
        "fox AND",
        "\"unbalanced",
        "(((",
        "*",
        "-fox",
        "fox^2 ~3",
        "[1 TO 2]",
        "\\",
        "🦊 fox",
        long_query.as_str(),
    ] {
        let hits = index.search(query, &brand(1), 10);
        assert!(hits.is_ok(), "query {query:.20?} failed: {hits:?}");
    }
    assert_eq!(ids(&index.search("fox)", &brand(1), 10).unwrap()), vec![1]);
    // Nothing searchable: stop words and punctuation only.
    assert!(index.search("", &brand(1), 10).unwrap().is_empty());
    assert!(
        index
            .search("the and of", &brand(1), 10)
            .unwrap()
            .is_empty()
    );
    assert!(index.search("?!", &brand(1), 10).unwrap().is_empty());
    assert!(index.search("fox", &brand(1), 0).unwrap().is_empty());
}

#[test]
fn field_boosts_decide_between_title_and_body_matches() {
    let dir = tempfile::tempdir().unwrap();
    let mut in_title = chunk(1, 1, 1, "a paragraph about something else entirely");
    in_title.title = "Onboarding".into();
    let in_body = chunk(2, 1, 1, "onboarding steps for a paragraph about new staff");
    let mut index = indexed(dir.path(), &[in_title, in_body]);

    index.set_config(Bm25Config {
        title_boost: 10.0,
        heading_boost: 1.0,
        body_boost: 1.0,
    });
    assert_eq!(
        ids(&index.search("onboarding", &brand(1), 2).unwrap()),
        vec![1, 2]
    );
    index.set_config(Bm25Config {
        title_boost: 0.0,
        heading_boost: 1.0,
        body_boost: 1.0,
    });
    assert_eq!(
        ids(&index.search("onboarding", &brand(1), 2).unwrap()),
        vec![2]
    );
}

#[test]
fn a_title_or_heading_the_text_already_carries_scores_only_once() {
    // The first chunk of a document starts with its title. Counting that title again in
    // the title and heading fields used to pull every first chunk above the passage that
    // answers; a chunk must score exactly as if the repeated context were absent.
    let dir = tempfile::tempdir().unwrap();
    let text = "Pricing plans\n\nThe starter plan costs nine euros a month.";
    let mut repeated = chunk(1, 1, 1, text);
    repeated.title = "Pricing plans".into();
    repeated.heading_path = vec!["Pricing plans".into()];
    let bare = chunk(2, 1, 2, text);
    // A later chunk of the same document does not carry its title: there the title is
    // context worth matching, once (not again as a heading equal to it).
    let mut later = chunk(3, 1, 1, "Annual billing saves two months.");
    later.title = "Pricing plans".into();
    later.heading_path = vec!["Pricing plans".into()];
    let mut index = indexed(dir.path(), &[repeated, bare, later]);

    let hits = index.search("pricing plans", &brand(1), 3).unwrap();
    let score = |id: i64| hits.iter().find(|(c, _)| c.0 == id).map(|(_, s)| *s);
    let (repeated, bare) = (score(1).unwrap(), score(2).unwrap());
    assert!(
        (repeated - bare).abs() < 1e-4,
        "repeated context {repeated} vs none {bare}"
    );
    assert!(score(3).is_some(), "the later chunk matches by its title");

    index.set_config(Bm25Config {
        title_boost: 0.0,
        heading_boost: 1.0,
        body_boost: 1.0,
    });
    let heading_only = index.search("pricing plans", &brand(1), 3).unwrap();
    assert!(
        heading_only.iter().any(|(c, _)| c.0 == 3),
        "with titles off, the heading still places the later chunk"
    );
}

/// Writes a sync made without committing are recorded as applied, so the next sync
/// continues after them; a restart forgets them (they were never durable) and a commit
/// moves the applied mark with the watermark.
#[test]
fn the_applied_mark_runs_ahead_of_the_committed_one_until_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let committed = Watermark {
        last_chunk: 1,
        last_deletion: 0,
    };
    let applied = Watermark {
        last_chunk: 2,
        last_deletion: 3,
    };
    {
        let index = Bm25Index::open(dir.path()).unwrap();
        index.upsert(&[chunk(1, 1, 1, "alpha")]).unwrap();
        index.commit(committed).unwrap();
        assert_eq!(index.applied().unwrap(), committed);
        index.upsert(&[chunk(2, 1, 1, "alpha beta")]).unwrap();
        index.set_applied(applied).unwrap();
        assert_eq!(index.applied().unwrap(), applied);
        assert_eq!(index.watermark().unwrap(), committed);
    }
    let index = Bm25Index::open(dir.path()).unwrap();
    assert_eq!(index.applied().unwrap(), committed);
    assert_eq!(index.len(), 1);
    index.clear().unwrap();
    assert_eq!(index.applied().unwrap(), Watermark::default());
}

#[test]
fn a_second_writer_on_the_same_directory_is_told_who_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Bm25Index::open(dir.path()).unwrap();
    let error = match Bm25Index::open(dir.path()) {
        Ok(_) => panic!("two writers opened one index directory"),
        Err(error) => error,
    };
    assert!(matches!(error, IndexError::InUse(_)), "{error:?}");
    assert!(error.to_string().contains("brandpilot serve"), "{error}");
}
