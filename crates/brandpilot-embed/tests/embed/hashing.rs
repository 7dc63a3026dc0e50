//! The hashing fallback: determinism, unit length, lexical similarity, speed.

use crate::norm;
use brandpilot_embed::{Embedder, HashingEmbedder, dot};

#[test]
fn identity_says_what_it_is() {
    let embedder = HashingEmbedder::new(384);
    assert_eq!(embedder.model_id(), "hashing-v1/384");
    assert_eq!(embedder.dimensions(), 384);
    assert!(!embedder.is_semantic());
}

#[test]
fn same_text_same_vector_whatever_the_batch() {
    let texts = [
        "Our brand voice is warm and clear.",
        "Refunds within 30 days.",
        "",
    ];
    let first = HashingEmbedder::new(256)
        .embed(&texts)
        .expect("hashing never fails");
    let again = HashingEmbedder::new(256)
        .embed(&texts)
        .expect("hashing never fails");
    assert_eq!(first, again);
    // Scratch buffers are reused across a batch; a text's vector must not depend on its
    // neighbours.
    let alone = HashingEmbedder::new(256)
        .embed(&texts[1..2])
        .expect("hashing never fails");
    assert_eq!(alone[0], first[1]);
}

#[test]
fn vectors_have_the_dimension_and_unit_length() {
    let embedder = HashingEmbedder::new(100);
    let vectors = embedder
        .embed(&[
            "a",
            "Hello, world!",
            "Ünïcödé wörds ärë fôldéd",
            "word ".repeat(500).as_str(),
        ])
        .expect("hashing never fails");
    for vector in &vectors {
        assert_eq!(vector.len(), 100);
        assert!((norm(vector) - 1.0).abs() < 1e-5, "norm {}", norm(vector));
    }
}

#[test]
fn text_without_words_is_the_zero_vector() {
    let vectors = HashingEmbedder::new(16)
        .embed(&["", " ... !? "])
        .expect("hashing never fails");
    assert!(
        vectors
            .iter()
            .all(|v| v.len() == 16 && v.iter().all(|x| *x == 0.0))
    );
}

#[test]
fn similar_texts_are_closer_than_unrelated_ones() {
    let embedder = HashingEmbedder::new(384);
    let texts = [
        "Our refund policy allows returns within 30 days of purchase.",
        "Returns are accepted within 30 days under our refund policy.",
        "The new espresso machine brews coffee in under a minute.",
    ];
    let v = embedder.embed(&texts).expect("hashing never fails");
    let related = dot(&v[0], &v[1]);
    let unrelated = dot(&v[0], &v[2]);
    assert!(related > 0.3, "related similarity {related}");
    assert!(
        related > unrelated + 0.2,
        "related {related} vs unrelated {unrelated}"
    );
}

#[test]
fn bigrams_make_word_order_matter() {
    let embedder = HashingEmbedder::new(384);
    let v = embedder
        .embed(&["dog bites man", "man bites dog"])
        .expect("hashing never fails");
    let similarity = dot(&v[0], &v[1]);
    // Same unigrams, different bigrams: alike but not identical.
    assert!(
        similarity > 0.3 && similarity < 0.99,
        "similarity {similarity}"
    );
}
