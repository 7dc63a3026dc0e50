//! Reads `model.safetensors` one tensor at a time: an 8-byte little-endian header length,
//! a JSON header naming each tensor's dtype, shape and byte range, then the raw data.
//!
//! The file is never mapped or read whole, so converting needs memory for one tensor only.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::quant::source_to_f32;
use crate::error::{LlamaError, Result};

/// Refuse headers beyond this size: real ones are a few kilobytes per hundred tensors.
const MAX_HEADER_BYTES: u64 = 64 * 1024 * 1024;

/// One entry of the safetensors header.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceTensor {
    pub dtype: String,
    pub shape: Vec<u64>,
    pub data_offsets: [u64; 2],
}

/// An opened safetensors file: its directory and the path to read data from.
#[derive(Debug)]
pub struct SafetensorsFile {
    path: PathBuf,
    data_start: u64,
    pub tensors: BTreeMap<String, SourceTensor>,
}

impl SafetensorsFile {
    pub fn open(path: &Path) -> Result<Self> {
        let mut file = fs_err::File::open(path)?;
        let file_len = file.metadata()?.len();
        let mut len_bytes = [0u8; 8];
        file.read_exact(&mut len_bytes)?;
        let header_len = u64::from_le_bytes(len_bytes);
        if header_len > MAX_HEADER_BYTES || 8 + header_len > file_len {
            return Err(LlamaError::UnsupportedModel(format!(
                "{} has an implausible safetensors header length {header_len}",
                path.display()
            )));
        }
        let mut header = vec![0u8; header_len as usize];
        file.read_exact(&mut header)?;
        let raw: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&header).map_err(|source| LlamaError::BadConfig {
                path: path.to_path_buf(),
                source,
            })?;
        let data_start = 8 + header_len;
        let mut tensors = BTreeMap::new();
        for (name, value) in raw {
            if name == "__metadata__" {
                continue;
            }
            let tensor: SourceTensor =
                serde_json::from_value(value).map_err(|source| LlamaError::BadConfig {
                    path: path.to_path_buf(),
                    source,
                })?;
            let [start, end] = tensor.data_offsets;
            if start > end || data_start.checked_add(end).is_none_or(|e| e > file_len) {
                return Err(LlamaError::UnsupportedModel(format!(
                    "tensor {name} lies outside {}",
                    path.display()
                )));
            }
            tensors.insert(name, tensor);
        }
        Ok(SafetensorsFile {
            path: path.to_path_buf(),
            data_start,
            tensors,
        })
    }

    /// Reads a tensor and converts it to f32, checking that its byte size fits its shape.
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>> {
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| LlamaError::UnsupportedModel(format!("missing tensor {name}")))?;
        let [start, end] = tensor.data_offsets;
        let element_bytes: u64 = match tensor.dtype.as_str() {
            "F32" => 4,
            "F16" | "BF16" => 2,
            other => {
                return Err(LlamaError::UnsupportedModel(format!(
                    "tensor {name} has dtype {other}"
                )));
            }
        };
        let expected = tensor
            .shape
            .iter()
            .try_fold(element_bytes, |acc, &d| acc.checked_mul(d));
        if expected != Some(end - start) {
            return Err(LlamaError::UnsupportedModel(format!(
                "tensor {name} has {} bytes for shape {:?}",
                end - start,
                tensor.shape
            )));
        }
        let mut file = fs_err::File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.data_start + start))?;
        let mut bytes = vec![0u8; (end - start) as usize];
        file.read_exact(&mut bytes)?;
        source_to_f32(&bytes, &tensor.dtype)
    }
}
