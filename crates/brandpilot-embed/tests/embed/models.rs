//! Model resolution: explicit directories, short names, a Hugging Face cache layout, and the
//! error that tells an operator to run the setup script.

use crate::{minilm_dir, models_dir};
use brandpilot_core::{Fault, FaultKind};
use brandpilot_embed::{EmbedError, Pooling, resolve_model, resolve_model_with_hub_cache};
use std::fs;
use std::path::Path;

/// Writes the files `resolve_model` needs. The weights are an empty placeholder: resolution
/// checks presence, loading them is the backend's job.
fn write_model(dir: &Path, pooling: &str, normalize_module: bool, sentence_max: Option<usize>) {
    fs::create_dir_all(dir.join("1_Pooling")).expect("create model dir");
    fs::write(dir.join("tokenizer.json"), "{}").expect("write tokenizer.json");
    fs::write(
        dir.join("config.json"),
        r#"{"max_position_embeddings": 512, "hidden_size": 8}"#,
    )
    .expect("write config.json");
    fs::write(dir.join("model.safetensors"), b"").expect("write weights");
    let pooling_json = format!(
        r#"{{"word_embedding_dimension": 8, "pooling_mode_cls_token": {}, "pooling_mode_mean_tokens": {}}}"#,
        pooling == "cls",
        pooling == "mean"
    );
    fs::write(dir.join("1_Pooling/config.json"), pooling_json).expect("write pooling config");
    if normalize_module {
        let modules = r#"[
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
        ]"#;
        fs::write(dir.join("modules.json"), modules).expect("write modules.json");
    }
    if let Some(max) = sentence_max {
        fs::write(
            dir.join("sentence_bert_config.json"),
            format!(r#"{{"max_seq_length": {max}}}"#),
        )
        .expect("write sentence_bert_config.json");
    }
}

#[test]
fn explicit_directory_reads_pooling_and_lengths() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("my-encoder");
    write_model(&dir, "cls", false, None);
    let spec = dir.to_string_lossy().to_string();
    let files = resolve_model_with_hub_cache(&spec, temp.path(), None).expect("resolves");
    assert_eq!(files.dir, dir);
    assert_eq!(files.name, "my-encoder");
    assert_eq!(files.pooling, Pooling::Cls);
    // Unknown model without a Normalize module: leave vectors as the model makes them.
    assert!(!files.normalize);
    // No sentence_bert_config.json: fall back to max_position_embeddings.
    assert_eq!(files.max_seq_length, 512);
    assert_eq!(files.weights, dir.join("model.safetensors"));
}

#[test]
fn short_name_is_looked_up_in_the_models_dir() {
    let temp = tempfile::tempdir().expect("temp dir");
    write_model(
        &temp.path().join("bge-small-en-v1.5"),
        "cls",
        false,
        Some(512),
    );
    let files =
        resolve_model_with_hub_cache("BGE-small-en-v1.5", temp.path(), None).expect("resolves");
    assert_eq!(files.pooling, Pooling::Cls);
    // Known sentence-transformers model: normalised even without modules.json.
    assert!(files.normalize);
    assert_eq!(files.max_content_tokens(), 510);
}

#[test]
fn hugging_face_cache_uses_the_snapshot_refs_main_names() {
    let temp = tempfile::tempdir().expect("temp dir");
    let hub = temp.path().join("hub");
    let repo = hub.join("models--acme--tiny-encoder");
    write_model(&repo.join("snapshots/1111aaaa"), "cls", false, Some(64));
    write_model(&repo.join("snapshots/2222bbbb"), "mean", true, Some(128));
    fs::create_dir_all(repo.join("refs")).expect("refs dir");
    fs::write(repo.join("refs/main"), "2222bbbb\n").expect("write refs/main");
    let models = temp.path().join("models");
    let files =
        resolve_model_with_hub_cache("acme/tiny-encoder", &models, Some(&hub)).expect("resolves");
    assert_eq!(files.dir, repo.join("snapshots/2222bbbb"));
    assert_eq!(files.name, "tiny-encoder");
    assert_eq!(files.pooling, Pooling::Mean);
    assert!(files.normalize, "modules.json lists Normalize");
    assert_eq!(files.max_seq_length, 128);

    // Without refs/main the newest snapshot wins; touching 1111aaaa's directory last makes it
    // the newest.
    fs::remove_file(repo.join("refs/main")).expect("remove refs/main");
    let older = repo.join("snapshots/1111aaaa");
    fs::write(older.join("touch"), "").expect("touch");
    let files =
        resolve_model_with_hub_cache("acme/tiny-encoder", &models, Some(&hub)).expect("resolves");
    assert_eq!(files.dir, older);
}

#[test]
fn known_short_name_falls_back_to_its_hugging_face_id() {
    let temp = tempfile::tempdir().expect("temp dir");
    let hub = temp.path().join("hub");
    let snapshot = hub.join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots/abc");
    write_model(&snapshot, "mean", true, Some(256));
    let files =
        resolve_model_with_hub_cache("all-minilm-l6-v2", &temp.path().join("none"), Some(&hub))
            .expect("resolves from the cache");
    assert_eq!(files.dir, snapshot);
    assert_eq!(files.name, "all-minilm-l6-v2");
}

#[test]
fn missing_model_says_to_run_the_setup_script() {
    let temp = tempfile::tempdir().expect("temp dir");
    let error = resolve_model_with_hub_cache("no-such-model", temp.path(), Some(temp.path()))
        .expect_err("nothing to find");
    assert!(matches!(error, EmbedError::ModelNotFound { .. }));
    assert_eq!(error.fault(), FaultKind::User);
    let message = error.to_string();
    assert!(message.contains("scripts/setup-models.sh"), "{message}");
    assert!(message.contains("no-such-model"), "{message}");

    let error = resolve_model_with_hub_cache("acme/absent", temp.path(), Some(temp.path()))
        .expect_err("nothing in the cache");
    assert!(error.to_string().contains("setup-models.sh"), "{error}");
}

#[test]
fn incomplete_directory_names_the_missing_file() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("half");
    write_model(&dir, "mean", false, None);
    fs::remove_file(dir.join("model.safetensors")).expect("remove weights");
    let error = resolve_model_with_hub_cache(&dir.to_string_lossy(), temp.path(), None)
        .expect_err("weights missing");
    let message = error.to_string();
    assert!(
        message.contains("model.safetensors") && message.contains("setup-models.sh"),
        "{message}"
    );
}

#[test]
fn max_pooling_is_refused_rather_than_guessed() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("maxpool");
    write_model(&dir, "mean", false, None);
    fs::write(
        dir.join("1_Pooling/config.json"),
        r#"{"pooling_mode_max_tokens": true}"#,
    )
    .expect("write");
    let error = resolve_model_with_hub_cache(&dir.to_string_lossy(), temp.path(), None)
        .expect_err("max pooling unsupported");
    assert!(error.to_string().contains("pooling"), "{error}");
}

#[test]
fn real_minilm_resolves_by_short_name() {
    let expected = minilm_dir();
    let files = resolve_model("all-minilm-l6-v2", &models_dir()).expect("MiniLM resolves");
    assert_eq!(files.dir, expected);
    assert_eq!(files.pooling, Pooling::Mean);
    assert!(files.normalize);
    // sentence_bert_config.json says 256, which wins over config.json's 512.
    assert_eq!(files.max_seq_length, 256);
    assert_eq!(files.max_content_tokens(), 254);
}
