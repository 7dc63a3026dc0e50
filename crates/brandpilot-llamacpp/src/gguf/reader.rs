//! Reads a GGUF v3 file's header: metadata and the tensor directory, plus the raw bytes of
//! one tensor on request. Used to validate cached conversions and in tests; llama.cpp
//! itself loads models for inference.
//!
//! Every length read from the file is checked against the bytes that remain, so a
//! truncated or hostile file yields an error, never a panic or a huge allocation.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::format::{
    DEFAULT_ALIGNMENT, MAGIC, MetadataArray, MetadataValue, TensorInfo, TensorType, VERSION,
    ValueKind, align_up,
};
use crate::error::{LlamaError, Result};

/// A parsed GGUF header.
#[derive(Debug, Clone)]
pub struct GgufFile {
    pub path: PathBuf,
    pub version: u32,
    pub metadata: Vec<(String, MetadataValue)>,
    pub tensors: Vec<TensorInfo>,
    /// Absolute file offset of the tensor data section.
    pub data_offset: u64,
    pub alignment: u64,
}

impl GgufFile {
    /// Parses the header of the file at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = fs_err::File::open(path)?;
        let file_len = file.metadata()?.len();
        let mut input = Input {
            inner: BufReader::new(file),
            position: 0,
            len: file_len,
        };

        let mut magic = [0u8; 4];
        input.read_exact(&mut magic)?;
        if magic != MAGIC {
            return Err(invalid("not a GGUF file (bad magic)"));
        }
        let version = input.u32()?;
        if version != VERSION {
            return Err(invalid(format!(
                "GGUF version {version}, only 3 is supported"
            )));
        }
        let n_tensors = input.u64()?;
        let n_metadata = input.u64()?;

        let mut metadata = Vec::new();
        for _ in 0..n_metadata {
            let key = input.string()?;
            let kind = input.kind()?;
            let value = input.value(kind)?;
            metadata.push((key, value));
        }

        let alignment = match metadata.iter().find(|(k, _)| k == "general.alignment") {
            Some((_, MetadataValue::U32(a))) if a.is_power_of_two() => u64::from(*a),
            Some(_) => return Err(invalid("general.alignment must be a power-of-two u32")),
            None => DEFAULT_ALIGNMENT,
        };

        let mut tensors = Vec::new();
        for _ in 0..n_tensors {
            input.ensure_remaining(8)?;
            let name = input.string()?;
            let n_dims = input.u32()?;
            if n_dims == 0 || n_dims > 4 {
                return Err(invalid(format!("tensor {name} has {n_dims} dimensions")));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                dims.push(input.u64()?);
            }
            let tensor_type = TensorType::from_id(input.u32()?);
            let offset = input.u64()?;
            if offset % alignment != 0 {
                return Err(invalid(format!("tensor {name} is not aligned")));
            }
            tensors.push(TensorInfo {
                name,
                dims,
                tensor_type,
                offset,
            });
        }

        let data_offset = align_up(input.position, alignment);
        for tensor in &tensors {
            if let Some(size) = tensor.byte_size() {
                let end = data_offset
                    .checked_add(tensor.offset)
                    .and_then(|start| start.checked_add(size));
                if end.is_none_or(|end| end > file_len) {
                    return Err(invalid(format!(
                        "tensor {} runs past the file",
                        tensor.name
                    )));
                }
            }
        }

        Ok(GgufFile {
            path: path.to_path_buf(),
            version,
            metadata,
            tensors,
            data_offset,
            alignment,
        })
    }

    /// The value of a metadata key.
    pub fn get(&self, key: &str) -> Option<&MetadataValue> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The directory entry of a tensor.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// Reads the stored bytes of a tensor.
    pub fn tensor_bytes(&self, name: &str) -> Result<Vec<u8>> {
        let info = self
            .tensor(name)
            .ok_or_else(|| invalid(format!("no tensor named {name}")))?;
        let size = info
            .byte_size()
            .ok_or_else(|| invalid(format!("tensor {name} has an unsupported type")))?;
        let size = usize::try_from(size).map_err(|_| invalid("tensor too large"))?;
        let mut file = fs_err::File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.data_offset + info.offset))?;
        let mut bytes = vec![0u8; size];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }
}

fn invalid(message: impl Into<String>) -> LlamaError {
    LlamaError::InvalidGguf(message.into())
}

/// A reader that knows how many bytes remain, to bound every allocation.
struct Input<R> {
    inner: R,
    position: u64,
    len: u64,
}

impl<R: Read> Input<R> {
    fn ensure_remaining(&self, bytes: u64) -> Result<()> {
        if self.len.saturating_sub(self.position) < bytes {
            return Err(invalid("file is truncated"));
        }
        Ok(())
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        self.ensure_remaining(buf.len() as u64)?;
        self.inner.read_exact(buf)?;
        self.position += buf.len() as u64;
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        self.read_exact(&mut buf)?;
        Ok(buf)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    fn kind(&mut self) -> Result<ValueKind> {
        let id = self.u32()?;
        ValueKind::from_id(id).ok_or_else(|| invalid(format!("unknown metadata type {id}")))
    }

    fn string(&mut self) -> Result<String> {
        let len = self.u64()?;
        self.ensure_remaining(len)?;
        let mut bytes = vec![0u8; len as usize];
        self.read_exact(&mut bytes)?;
        String::from_utf8(bytes).map_err(|_| invalid("string is not UTF-8"))
    }

    fn value(&mut self, kind: ValueKind) -> Result<MetadataValue> {
        Ok(match kind {
            ValueKind::U8 => MetadataValue::U8(u8::from_le_bytes(self.array()?)),
            ValueKind::I8 => MetadataValue::I8(i8::from_le_bytes(self.array()?)),
            ValueKind::U16 => MetadataValue::U16(u16::from_le_bytes(self.array()?)),
            ValueKind::I16 => MetadataValue::I16(i16::from_le_bytes(self.array()?)),
            ValueKind::U32 => MetadataValue::U32(self.u32()?),
            ValueKind::I32 => MetadataValue::I32(i32::from_le_bytes(self.array()?)),
            ValueKind::F32 => MetadataValue::F32(f32::from_le_bytes(self.array()?)),
            ValueKind::Bool => {
                let [b] = self.array::<1>()?;
                MetadataValue::Bool(b != 0)
            }
            ValueKind::String => MetadataValue::String(self.string()?),
            ValueKind::U64 => MetadataValue::U64(self.u64()?),
            ValueKind::I64 => MetadataValue::I64(i64::from_le_bytes(self.array()?)),
            ValueKind::F64 => MetadataValue::F64(f64::from_le_bytes(self.array()?)),
            ValueKind::Array => MetadataValue::Array(self.array_value()?),
        })
    }

    fn array_value(&mut self) -> Result<MetadataArray> {
        let kind = self.kind()?;
        let n = self.u64()?;
        // Every element takes at least one byte, so a count beyond the remaining bytes is
        // corrupt; this bounds the allocations below.
        self.ensure_remaining(n)?;
        let n = n as usize;
        macro_rules! collect {
            ($variant:ident, $ty:ty) => {{
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    values.push(<$ty>::from_le_bytes(self.array()?));
                }
                MetadataArray::$variant(values)
            }};
        }
        Ok(match kind {
            ValueKind::U8 => collect!(U8, u8),
            ValueKind::I8 => collect!(I8, i8),
            ValueKind::U16 => collect!(U16, u16),
            ValueKind::I16 => collect!(I16, i16),
            ValueKind::U32 => collect!(U32, u32),
            ValueKind::I32 => collect!(I32, i32),
            ValueKind::F32 => collect!(F32, f32),
            ValueKind::U64 => collect!(U64, u64),
            ValueKind::I64 => collect!(I64, i64),
            ValueKind::F64 => collect!(F64, f64),
            ValueKind::Bool => {
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    let [b] = self.array::<1>()?;
                    values.push(b != 0);
                }
                MetadataArray::Bool(values)
            }
            ValueKind::String => {
                let mut values = Vec::with_capacity(n);
                for _ in 0..n {
                    values.push(self.string()?);
                }
                MetadataArray::String(values)
            }
            ValueKind::Array => return Err(invalid("nested metadata arrays are not supported")),
        })
    }
}
