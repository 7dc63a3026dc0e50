//! Streams a GGUF v3 file: header, metadata, tensor directory, then tensor data produced
//! one tensor at a time by a caller-supplied closure, so a conversion never holds more
//! than one tensor in memory.
//!
//! The writer checks that every tensor's data has exactly the declared size; it never
//! decides tensor types or names (that is the converter's job).

use std::io::{self, Write};

use super::format::{
    DEFAULT_ALIGNMENT, MAGIC, MetadataArray, MetadataValue, TensorInfo, TensorType, VERSION,
    align_up,
};
use crate::error::{LlamaError, Result};

/// A tensor to be written: its name, ggml-order dimensions and element type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub dims: Vec<u64>,
    pub tensor_type: TensorType,
}

/// Collects metadata and tensor declarations, then writes them out in one pass.
#[derive(Debug, Default)]
pub struct GgufWriter {
    metadata: Vec<(String, MetadataValue)>,
    tensors: Vec<TensorSpec>,
}

impl GgufWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a metadata pair. Keys are written in insertion order; a repeated key replaces
    /// the earlier value (GGUF forbids duplicates).
    pub fn set(&mut self, key: impl Into<String>, value: MetadataValue) {
        let key = key.into();
        if let Some(slot) = self.metadata.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.metadata.push((key, value));
        }
    }

    /// Declares a tensor; its data is produced later, in declaration order.
    pub fn add_tensor(&mut self, spec: TensorSpec) -> Result<()> {
        if self.tensors.iter().any(|t| t.name == spec.name) {
            return Err(LlamaError::InvalidGguf(format!(
                "tensor {} declared twice",
                spec.name
            )));
        }
        if spec.dims.is_empty() || spec.dims.len() > 4 {
            return Err(LlamaError::InvalidGguf(format!(
                "tensor {} has {} dimensions (1 to 4 allowed)",
                spec.name,
                spec.dims.len()
            )));
        }
        let info = self.info_for(&spec, 0);
        if info.byte_size().is_none() {
            return Err(LlamaError::InvalidGguf(format!(
                "tensor {} of {:?} cannot be stored as {:?}",
                spec.name, spec.dims, spec.tensor_type
            )));
        }
        self.tensors.push(spec);
        Ok(())
    }

    /// The declared tensors, in file order.
    pub fn tensors(&self) -> &[TensorSpec] {
        &self.tensors
    }

    fn info_for(&self, spec: &TensorSpec, offset: u64) -> TensorInfo {
        TensorInfo {
            name: spec.name.clone(),
            dims: spec.dims.clone(),
            tensor_type: spec.tensor_type,
            offset,
        }
    }

    /// Writes the whole file. `produce(index, spec, sink)` must write exactly the bytes of
    /// tensor `index`; the writer adds the alignment padding.
    pub fn write<W, F>(&self, out: W, mut produce: F) -> Result<()>
    where
        W: Write,
        F: FnMut(usize, &TensorSpec, &mut dyn Write) -> Result<()>,
    {
        let mut out = CountingWriter {
            inner: out,
            written: 0,
        };

        // Header.
        out.write_all(&MAGIC)?;
        out.write_all(&VERSION.to_le_bytes())?;
        write_u64(&mut out, self.tensors.len() as u64)?;
        write_u64(&mut out, self.metadata.len() as u64)?;

        for (key, value) in &self.metadata {
            write_string(&mut out, key)?;
            write_value(&mut out, value)?;
        }

        // Tensor directory with offsets computed up front.
        let mut offset = 0u64;
        let mut sizes = Vec::with_capacity(self.tensors.len());
        for spec in &self.tensors {
            let info = self.info_for(spec, offset);
            let size = info
                .byte_size()
                .ok_or_else(|| LlamaError::InvalidGguf(format!("bad tensor {}", spec.name)))?;
            write_string(&mut out, &spec.name)?;
            out.write_all(&(spec.dims.len() as u32).to_le_bytes())?;
            for &d in &spec.dims {
                write_u64(&mut out, d)?;
            }
            out.write_all(&spec.tensor_type.id().to_le_bytes())?;
            write_u64(&mut out, offset)?;
            sizes.push(size);
            offset = align_up(offset + size, DEFAULT_ALIGNMENT);
        }

        // Data section starts aligned.
        pad_to_alignment(&mut out)?;
        let data_start = out.written;

        for (index, (spec, &size)) in self.tensors.iter().zip(&sizes).enumerate() {
            let before = out.written;
            produce(index, spec, &mut out)?;
            let produced = out.written - before;
            if produced != size {
                return Err(LlamaError::InvalidGguf(format!(
                    "tensor {} produced {produced} bytes, expected {size}",
                    spec.name
                )));
            }
            debug_assert_eq!((before - data_start) % DEFAULT_ALIGNMENT, 0);
            pad_to_alignment(&mut out)?;
        }
        out.inner.flush()?;
        Ok(())
    }
}

/// Counts bytes so the writer can pad and verify sizes without seeking.
struct CountingWriter<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn pad_to_alignment<W: Write>(out: &mut CountingWriter<W>) -> io::Result<()> {
    let target = align_up(out.written, DEFAULT_ALIGNMENT);
    let zeros = [0u8; DEFAULT_ALIGNMENT as usize];
    let missing = (target - out.written) as usize;
    out.write_all(&zeros[..missing])
}

fn write_u64(out: &mut impl Write, v: u64) -> io::Result<()> {
    out.write_all(&v.to_le_bytes())
}

fn write_string(out: &mut impl Write, s: &str) -> io::Result<()> {
    write_u64(out, s.len() as u64)?;
    out.write_all(s.as_bytes())
}

fn write_value(out: &mut impl Write, value: &MetadataValue) -> io::Result<()> {
    out.write_all(&(value.kind() as u32).to_le_bytes())?;
    write_payload(out, value)
}

/// Writes a value without its type tag (array elements carry no tag of their own).
fn write_payload(out: &mut impl Write, value: &MetadataValue) -> io::Result<()> {
    match value {
        MetadataValue::U8(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::I8(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::U16(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::I16(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::U32(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::I32(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::F32(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::Bool(v) => out.write_all(&[u8::from(*v)]),
        MetadataValue::String(s) => write_string(out, s),
        MetadataValue::U64(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::I64(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::F64(v) => out.write_all(&v.to_le_bytes()),
        MetadataValue::Array(array) => write_array(out, array),
    }
}

fn write_array(out: &mut impl Write, array: &MetadataArray) -> io::Result<()> {
    out.write_all(&(array.element_kind() as u32).to_le_bytes())?;
    write_u64(out, array.len() as u64)?;
    macro_rules! numbers {
        ($values:expr) => {{
            for v in $values {
                out.write_all(&v.to_le_bytes())?;
            }
            Ok(())
        }};
    }
    match array {
        MetadataArray::U8(v) => out.write_all(v),
        MetadataArray::I8(v) => numbers!(v),
        MetadataArray::U16(v) => numbers!(v),
        MetadataArray::I16(v) => numbers!(v),
        MetadataArray::U32(v) => numbers!(v),
        MetadataArray::I32(v) => numbers!(v),
        MetadataArray::F32(v) => numbers!(v),
        MetadataArray::Bool(v) => {
            let bytes: Vec<u8> = v.iter().map(|&b| u8::from(b)).collect();
            out.write_all(&bytes)
        }
        MetadataArray::String(v) => {
            for s in v {
                write_string(out, s)?;
            }
            Ok(())
        }
        MetadataArray::U64(v) => numbers!(v),
        MetadataArray::I64(v) => numbers!(v),
        MetadataArray::F64(v) => numbers!(v),
    }
}
