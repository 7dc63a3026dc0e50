//! Encodes f32 weights as the element types llama.cpp reads (f32, f16, Q8_0) and decodes
//! them back (for tests and accuracy checks).
//!
//! Q8_0 follows ggml's block layout: 32 values per block, stored as an f16 scale
//! `d = max|x| / 127` followed by 32 signed bytes `round(x / d)`.

use half::f16;

use super::format::{Q8_0_BLOCK_BYTES, Q8_0_BLOCK_ELEMENTS, TensorType};
use crate::error::{LlamaError, Result};

/// Appends the encoding of `values` as `tensor_type` to `out`.
pub fn encode(values: &[f32], tensor_type: TensorType, out: &mut Vec<u8>) -> Result<()> {
    match tensor_type {
        TensorType::F32 => {
            out.reserve(values.len() * 4);
            for v in values {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        TensorType::F16 => {
            out.reserve(values.len() * 2);
            for &v in values {
                out.extend_from_slice(&f16::from_f32(v).to_le_bytes());
            }
        }
        TensorType::Q8_0 => {
            if !values.len().is_multiple_of(Q8_0_BLOCK_ELEMENTS) {
                return Err(LlamaError::UnsupportedModel(format!(
                    "{} values cannot be split into Q8_0 blocks of {Q8_0_BLOCK_ELEMENTS}",
                    values.len()
                )));
            }
            out.reserve(values.len() / Q8_0_BLOCK_ELEMENTS * Q8_0_BLOCK_BYTES);
            for block in values.chunks_exact(Q8_0_BLOCK_ELEMENTS) {
                encode_q8_0_block(block, out);
            }
        }
        TensorType::Other(id) => {
            return Err(LlamaError::UnsupportedModel(format!(
                "cannot encode ggml type {id}"
            )));
        }
    }
    Ok(())
}

fn encode_q8_0_block(block: &[f32], out: &mut Vec<u8>) {
    let max_abs = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = max_abs / 127.0;
    let inverse = if scale != 0.0 { 1.0 / scale } else { 0.0 };
    out.extend_from_slice(&f16::from_f32(scale).to_le_bytes());
    for &v in block {
        // `round` rounds half away from zero, as ggml's `roundf` does; the clamp only
        // matters for NaN/inf inputs, which map to 0 / ±127 instead of wrapping.
        let q = (v * inverse).round().clamp(-127.0, 127.0) as i8;
        out.push(q.to_le_bytes()[0]);
    }
}

/// Decodes `bytes` stored as `tensor_type` into f32 values.
pub fn decode(bytes: &[u8], tensor_type: TensorType) -> Result<Vec<f32>> {
    let bad_length = || {
        LlamaError::InvalidGguf(format!(
            "{} bytes is not a whole number of {tensor_type:?} elements",
            bytes.len()
        ))
    };
    match tensor_type {
        TensorType::F32 => {
            if !bytes.len().is_multiple_of(4) {
                return Err(bad_length());
            }
            Ok(bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        }
        TensorType::F16 => {
            if !bytes.len().is_multiple_of(2) {
                return Err(bad_length());
            }
            Ok(bytes
                .chunks_exact(2)
                .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect())
        }
        TensorType::Q8_0 => {
            if !bytes.len().is_multiple_of(Q8_0_BLOCK_BYTES) {
                return Err(bad_length());
            }
            let mut values = Vec::with_capacity(bytes.len() / Q8_0_BLOCK_BYTES * 32);
            for block in bytes.chunks_exact(Q8_0_BLOCK_BYTES) {
                let scale = f16::from_le_bytes([block[0], block[1]]).to_f32();
                values.extend(block[2..].iter().map(|&q| f32::from(q as i8) * scale));
            }
            Ok(values)
        }
        TensorType::Other(id) => Err(LlamaError::InvalidGguf(format!(
            "cannot decode ggml type {id}"
        ))),
    }
}

/// Converts raw little-endian source data of a safetensors dtype to f32.
pub fn source_to_f32(bytes: &[u8], dtype: &str) -> Result<Vec<f32>> {
    match dtype {
        "F32" => decode(bytes, TensorType::F32),
        "F16" => decode(bytes, TensorType::F16),
        "BF16" => {
            if !bytes.len().is_multiple_of(2) {
                return Err(LlamaError::UnsupportedModel("odd BF16 byte count".into()));
            }
            Ok(bytes
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect())
        }
        other => Err(LlamaError::UnsupportedModel(format!(
            "tensor dtype {other} (F32, F16 and BF16 are supported)"
        ))),
    }
}
