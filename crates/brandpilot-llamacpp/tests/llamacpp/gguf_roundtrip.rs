//! The GGUF writer, reader and encoders on synthetic data, and the converter's output
//! for the real MiniLM model read back with our reader.

use brandpilot_llamacpp::OutputType;
use brandpilot_llamacpp::gguf::{
    GgufFile, GgufWriter, MetadataArray, MetadataValue, TensorSpec, TensorType, decode, encode,
    ensure_gguf,
};

use crate::support::{minilm_dir, minilm_gguf};

/// Deterministic pseudo-random values in roughly [-scale, scale] (no RNG dependency).
fn values(count: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let unit = (state >> 40) as f32 / (1u64 << 24) as f32; // [0, 1)
            (unit * 2.0 - 1.0) * scale
        })
        .collect()
}

#[test]
fn writer_and_reader_round_trip_metadata_tensors_and_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.gguf");

    let plain = values(5, 1, 3.0);
    let half = values(8 * 3, 2, 1.0);
    let quantised = values(64 * 3, 3, 0.5);

    let mut writer = GgufWriter::new();
    writer.set("general.architecture", MetadataValue::String("bert".into()));
    writer.set("test.count", MetadataValue::U32(7));
    writer.set("test.epsilon", MetadataValue::F32(1e-12));
    writer.set("test.causal", MetadataValue::Bool(false));
    writer.set(
        "test.words",
        MetadataValue::Array(MetadataArray::String(vec!["▁hello".into(), "world".into()])),
    );
    writer.set(
        "test.kinds",
        MetadataValue::Array(MetadataArray::I32(vec![3, 1, 1])),
    );
    let specs = [
        ("plain", vec![5], TensorType::F32, &plain),
        ("half", vec![8, 3], TensorType::F16, &half),
        ("quantised", vec![64, 3], TensorType::Q8_0, &quantised),
    ];
    for (name, dims, tensor_type, _) in &specs {
        writer
            .add_tensor(TensorSpec {
                name: (*name).into(),
                dims: dims.clone(),
                tensor_type: *tensor_type,
            })
            .unwrap();
    }
    let file = std::fs::File::create(&path).unwrap();
    writer
        .write(file, |index, spec, sink| {
            let mut bytes = Vec::new();
            encode(specs[index].3, spec.tensor_type, &mut bytes)?;
            sink.write_all(&bytes)?;
            Ok(())
        })
        .unwrap();

    let read = GgufFile::open(&path).unwrap();
    assert_eq!(read.version, 3);
    assert_eq!(
        read.get("general.architecture").and_then(|v| v.as_str()),
        Some("bert")
    );
    assert_eq!(read.get("test.count"), Some(&MetadataValue::U32(7)));
    assert_eq!(read.get("test.epsilon"), Some(&MetadataValue::F32(1e-12)));
    assert_eq!(read.get("test.causal"), Some(&MetadataValue::Bool(false)));
    assert_eq!(
        read.get("test.words"),
        Some(&MetadataValue::Array(MetadataArray::String(vec![
            "▁hello".into(),
            "world".into()
        ])))
    );
    assert_eq!(
        read.get("test.kinds"),
        Some(&MetadataValue::Array(MetadataArray::I32(vec![3, 1, 1])))
    );
    assert_eq!(read.tensors.len(), 3);
    for tensor in &read.tensors {
        assert_eq!(
            tensor.offset % read.alignment,
            0,
            "{} is aligned",
            tensor.name
        );
    }

    let plain_back = decode(&read.tensor_bytes("plain").unwrap(), TensorType::F32).unwrap();
    assert_eq!(plain_back, plain);

    let half_info = read.tensor("half").unwrap();
    assert_eq!(half_info.dims, vec![8, 3]);
    assert_eq!(half_info.tensor_type, TensorType::F16);
    let half_back = decode(&read.tensor_bytes("half").unwrap(), TensorType::F16).unwrap();
    for (a, b) in half.iter().zip(&half_back) {
        assert!((a - b).abs() <= a.abs() * 1e-3 + 1e-6, "{a} vs {b}");
    }

    let q_info = read.tensor("quantised").unwrap();
    assert_eq!(q_info.dims, vec![64, 3]);
    assert_eq!(q_info.tensor_type, TensorType::Q8_0);
    let q_bytes = read.tensor_bytes("quantised").unwrap();
    assert_eq!(q_bytes.len(), 64 * 3 / 32 * 34);
    let q_back = decode(&q_bytes, TensorType::Q8_0).unwrap();
    assert_eq!(q_back.len(), quantised.len());
    for (block, block_back) in quantised.chunks(32).zip(q_back.chunks(32)) {
        let max_abs = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // Rounding to the nearest step costs at most half a step (max/127/2); the f16
        // scale adds at most 127 × 2^-11 of a step.
        let bound = max_abs / 127.0 * 0.57;
        for (a, b) in block.iter().zip(block_back) {
            assert!((a - b).abs() <= bound, "{a} vs {b}, bound {bound}");
        }
    }
}

#[test]
fn reader_rejects_truncated_and_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("foreign.gguf");
    std::fs::write(&foreign, b"NOTAGGUFFILE").unwrap();
    assert!(GgufFile::open(&foreign).is_err());

    let gguf = minilm_gguf(OutputType::Q8_0);
    let bytes = std::fs::read(&gguf).unwrap();
    let truncated = dir.path().join("truncated.gguf");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(GgufFile::open(&truncated).is_err());
    std::fs::write(&truncated, &bytes[..1000]).unwrap();
    assert!(GgufFile::open(&truncated).is_err());
}

#[test]
fn minilm_conversion_has_llama_cpp_bert_keys_and_tensors() {
    for output in [OutputType::F32, OutputType::F16, OutputType::Q8_0] {
        let file = GgufFile::open(&minilm_gguf(output)).unwrap();
        let u32_of = |key: &str| file.get(key).and_then(|v| v.as_u64());
        assert_eq!(
            file.get("general.architecture").and_then(|v| v.as_str()),
            Some("bert")
        );
        assert_eq!(u32_of("bert.embedding_length"), Some(384));
        assert_eq!(u32_of("bert.block_count"), Some(6));
        assert_eq!(u32_of("bert.attention.head_count"), Some(12));
        assert_eq!(u32_of("bert.feed_forward_length"), Some(1536));
        assert_eq!(u32_of("bert.context_length"), Some(512));
        assert_eq!(u32_of("bert.pooling_type"), Some(1));
        assert_eq!(u32_of("brandpilot.max_seq_length"), Some(256));
        assert_eq!(u32_of("tokenizer.ggml.cls_token_id"), Some(101));
        assert_eq!(u32_of("tokenizer.ggml.seperator_token_id"), Some(102));
        assert_eq!(
            u32_of("general.file_type"),
            Some(u64::from(output.llama_file_type()))
        );
        assert_eq!(
            file.get("bert.attention.causal"),
            Some(&MetadataValue::Bool(false))
        );
        let Some(MetadataValue::Array(MetadataArray::String(tokens))) =
            file.get("tokenizer.ggml.tokens")
        else {
            panic!("token list missing");
        };
        assert_eq!(tokens.len(), 30522);
        assert_eq!(tokens[101], "[CLS]");
        assert_eq!(tokens[7592], "\u{2581}hello");
        assert_eq!(tokens[8270], "bed", "continuation pieces lose their ##");

        // 5 embedding tensors + 16 per layer.
        assert_eq!(file.tensors.len(), 5 + 6 * 16);
        let embd = file.tensor("token_embd.weight").unwrap();
        assert_eq!(embd.dims, vec![384, 30522]);
        let up = file.tensor("blk.0.ffn_up.weight").unwrap();
        assert_eq!(up.dims, vec![384, 1536]);
        let down = file.tensor("blk.5.ffn_down.weight").unwrap();
        assert_eq!(down.dims, vec![1536, 384]);
        let expected_matmul = match output {
            OutputType::F32 => TensorType::F32,
            OutputType::F16 => TensorType::F16,
            OutputType::Q8_0 => TensorType::Q8_0,
        };
        assert_eq!(up.tensor_type, expected_matmul);
        let expected_embd = match output {
            OutputType::F32 => TensorType::F32,
            OutputType::F16 | OutputType::Q8_0 => TensorType::F16,
        };
        assert_eq!(embd.tensor_type, expected_embd);
        assert_eq!(
            file.tensor("blk.3.attn_output_norm.bias")
                .unwrap()
                .tensor_type,
            TensorType::F32
        );
        assert_eq!(
            file.tensor("token_types.weight").unwrap().tensor_type,
            TensorType::F32
        );
        assert_eq!(
            file.tensor("position_embd.weight").unwrap().tensor_type,
            TensorType::F32
        );
    }
}

#[test]
fn q8_0_weights_stay_close_to_f32_weights() {
    let f32_file = GgufFile::open(&minilm_gguf(OutputType::F32)).unwrap();
    let q8_file = GgufFile::open(&minilm_gguf(OutputType::Q8_0)).unwrap();
    let name = "blk.2.attn_q.weight";
    let exact = decode(&f32_file.tensor_bytes(name).unwrap(), TensorType::F32).unwrap();
    let approx = decode(&q8_file.tensor_bytes(name).unwrap(), TensorType::Q8_0).unwrap();
    assert_eq!(exact.len(), approx.len());
    for (block, block_back) in exact.chunks(32).zip(approx.chunks(32)) {
        let max_abs = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let bound = max_abs / 127.0 * 0.57;
        for (a, b) in block.iter().zip(block_back) {
            assert!((a - b).abs() <= bound, "{a} vs {b}");
        }
    }
}

#[test]
fn conversion_is_cached_and_redone_when_sources_change() {
    let source = minilm_dir();
    let copy = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // Small files are copied; the weights are linked, so the test stays cheap.
    for name in [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "sentence_bert_config.json",
    ] {
        std::fs::copy(source.join(name), copy.path().join(name)).unwrap();
    }
    std::fs::create_dir(copy.path().join("1_Pooling")).unwrap();
    std::fs::copy(
        source.join("1_Pooling/config.json"),
        copy.path().join("1_Pooling/config.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        source.join("model.safetensors"),
        copy.path().join("model.safetensors"),
    )
    .unwrap();

    let first = ensure_gguf(copy.path(), out.path(), OutputType::Q8_0).unwrap();
    let written = std::fs::metadata(&first).unwrap().modified().unwrap();
    let second = ensure_gguf(copy.path(), out.path(), OutputType::Q8_0).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        std::fs::metadata(&second).unwrap().modified().unwrap(),
        written,
        "reused"
    );

    // Rewriting a source file (new mtime) invalidates the cache.
    let config = std::fs::read(copy.path().join("config.json")).unwrap();
    std::fs::remove_file(copy.path().join("config.json")).unwrap();
    std::fs::write(copy.path().join("config.json"), config).unwrap();
    let fingerprint = |path: &std::path::Path| {
        GgufFile::open(path)
            .unwrap()
            .get(brandpilot_llamacpp::gguf::FINGERPRINT_KEY)
            .cloned()
    };
    let before = fingerprint(&first);
    let third = ensure_gguf(copy.path(), out.path(), OutputType::Q8_0).unwrap();
    assert_eq!(third, first);
    assert_ne!(
        fingerprint(&third),
        before,
        "reconverted with the new fingerprint"
    );

    // The other output type is a separate file.
    let f16 = ensure_gguf(copy.path(), out.path(), OutputType::F16).unwrap();
    assert_ne!(f16, first);
}
