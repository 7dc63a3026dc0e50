//! The embedder on the real all-MiniLM-L6-v2 model: shape, normalisation, semantics,
//! determinism, packing without cross-talk, quantisation accuracy and length limits.

use brandpilot_llamacpp::{BertEmbedder, EmbedderSettings, LlamaError, OutputType};

use crate::support::{cosine, embedder, f16_embedder, f32_embedder, minilm_gguf};

const SENTENCES: &[&str] = &[
    "The cat sits on the mat.",
    "A cat is sitting on a rug.",
    "Quarterly revenue grew by twelve percent.",
    "Mitochondria are the powerhouse of the cell, producing most of its ATP.",
    "How do I reset my password?",
    "x",
    "",
];

#[test]
fn vectors_have_384_dimensions_and_unit_length() {
    let embedder = embedder();
    assert_eq!(embedder.dimensions(), 384);
    assert_eq!(embedder.max_tokens(), 256);
    let vectors = embedder.embed_batch(SENTENCES).unwrap();
    assert_eq!(vectors.len(), SENTENCES.len());
    for vector in &vectors {
        assert_eq!(vector.len(), 384);
        let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        assert!(vector.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn paraphrases_are_closer_than_unrelated_sentences() {
    let v = embedder().embed_batch(&SENTENCES[..3]).unwrap();
    let paraphrase = cosine(&v[0], &v[1]);
    let unrelated = cosine(&v[0], &v[2]);
    assert!(
        paraphrase > unrelated + 0.3,
        "paraphrase {paraphrase}, unrelated {unrelated}"
    );
    assert!(paraphrase > 0.7, "paraphrase {paraphrase}");
}

#[test]
fn embedding_is_deterministic() {
    let first = embedder().embed_batch(SENTENCES).unwrap();
    let second = embedder().embed_batch(SENTENCES).unwrap();
    assert_eq!(first, second);
}

#[test]
fn packed_batch_equals_one_by_one() {
    // All these short texts fit into one llama batch as separate sequences; if attention
    // leaked across sequences, the packed vectors would differ from the single ones.
    let packed = embedder().embed_batch(SENTENCES).unwrap();
    for (text, packed_vector) in SENTENCES.iter().zip(&packed) {
        let single = embedder().embed_batch(&[text]).unwrap();
        let similarity = cosine(&single[0], packed_vector);
        assert!(similarity > 0.9999, "{text:?}: cosine {similarity}");
    }
}

#[test]
fn tokenizer_matches_bert_uncased_ids() {
    let embedder = embedder();
    assert_eq!(
        embedder.tokenize("Hello, world!"),
        vec![101, 7592, 1010, 2088, 999, 102]
    );
    assert_eq!(
        embedder.tokenize("Embeddings"),
        vec![101, 7861, 8270, 4667, 2015, 102]
    );
    assert_eq!(embedder.count_tokens(""), 2, "[CLS] and [SEP] only");
    // Control-token text in user input is plain text, not a control token.
    assert!(!embedder.tokenize("a [SEP] b")[1..5].contains(&102));
}

#[test]
fn too_long_text_is_an_error_not_a_truncation() {
    let embedder = embedder();
    let long = "word ".repeat(300);
    assert!(embedder.count_tokens(&long) > embedder.max_tokens());
    let error = embedder.embed_batch(&["short", &long]).unwrap_err();
    match error {
        LlamaError::TextTooLong {
            index,
            tokens,
            limit,
        } => {
            assert_eq!(index, 1);
            assert_eq!(limit, 256);
            assert_eq!(tokens, 302);
        }
        other => panic!("expected TextTooLong, got {other:?}"),
    }
    // Exactly at the limit is fine.
    let at_limit = "word ".repeat(254);
    assert_eq!(embedder.count_tokens(&at_limit), 256);
    assert_eq!(embedder.embed_batch(&[&at_limit]).unwrap().len(), 1);
}

#[test]
fn quantised_models_agree_with_f32() {
    let reference = f32_embedder().embed_batch(SENTENCES).unwrap();
    let mut worst = Vec::new();
    for (name, other) in [("q8_0", embedder()), ("f16", f16_embedder())] {
        let vectors = other.embed_batch(SENTENCES).unwrap();
        for ((text, a), b) in SENTENCES.iter().zip(&reference).zip(&vectors) {
            let similarity = cosine(a, b);
            eprintln!("{name} {text:?}: cosine vs f32 {similarity:.6}");
            // Q8_0 also quantises activations; on degenerate inputs ("" or one letter,
            // 2–3 tokens) nothing averages the rounding out and cosine measures ~0.9986.
            let degenerate = text.split_whitespace().count() < 2;
            let required = if degenerate { 0.998 } else { 0.999 };
            if similarity < required {
                worst.push(format!("{name} {text:?}: {similarity}"));
            }
        }
    }
    assert!(worst.is_empty(), "too far from f32: {worst:?}");
}

#[test]
fn settings_do_not_change_results() {
    // No packing, no flash attention, one thread: same vectors up to float rounding.
    let plain = BertEmbedder::load(
        &minilm_gguf(OutputType::Q8_0),
        EmbedderSettings {
            threads: 1,
            batch_tokens: 64,
            pack_sequences: false,
            flash_attention: false,
        },
    )
    .unwrap();
    assert_eq!(plain.threads(), 1);
    let expected = embedder().embed_batch(SENTENCES).unwrap();
    let actual = plain.embed_batch(SENTENCES).unwrap();
    for ((text, a), b) in SENTENCES.iter().zip(&expected).zip(&actual) {
        let similarity = cosine(a, b);
        // Flash attention and the plain path round differently (f16 K/V in the former).
        assert!(similarity > 0.9995, "{text:?}: cosine {similarity}");
    }
}

#[test]
fn embedder_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<BertEmbedder>();
    let embedder = embedder();
    let expected = embedder.embed_batch(&SENTENCES[..2]).unwrap();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| embedder.embed_batch(&SENTENCES[..2]).unwrap()))
            .collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap(), expected);
        }
    });
}

#[test]
fn empty_input_gives_empty_output() {
    assert!(embedder().embed_batch(&[]).unwrap().is_empty());
}
