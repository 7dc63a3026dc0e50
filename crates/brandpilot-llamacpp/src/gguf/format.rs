//! The vocabulary of the GGUF v3 container: value types, tensor element types and the
//! constants both the writer and the reader agree on.
//!
//! This module only describes data; it never touches files.

/// "GGUF" as it appears in the first four bytes of the file.
pub const MAGIC: [u8; 4] = *b"GGUF";
/// The only GGUF version this crate writes and reads.
pub const VERSION: u32 = 3;
/// Tensor data alignment used when a file has no `general.alignment` key.
pub const DEFAULT_ALIGNMENT: u64 = 32;
/// Elements in one Q8_0 block.
pub const Q8_0_BLOCK_ELEMENTS: usize = 32;
/// Bytes in one Q8_0 block: an f16 scale followed by 32 signed bytes.
pub const Q8_0_BLOCK_BYTES: usize = 2 + Q8_0_BLOCK_ELEMENTS;

/// Element type of a tensor, numbered as `ggml_type` numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TensorType {
    F32,
    F16,
    Q8_0,
    /// Any other ggml type: readable (its id is kept) but not produced or decoded here.
    Other(u32),
}

impl TensorType {
    /// The `ggml_type` number stored in the file.
    pub fn id(self) -> u32 {
        match self {
            TensorType::F32 => 0,
            TensorType::F16 => 1,
            TensorType::Q8_0 => 8,
            TensorType::Other(id) => id,
        }
    }

    /// Maps a stored `ggml_type` number back to a type.
    pub fn from_id(id: u32) -> Self {
        match id {
            0 => TensorType::F32,
            1 => TensorType::F16,
            8 => TensorType::Q8_0,
            other => TensorType::Other(other),
        }
    }

    /// Bytes needed for `elements` values, or `None` when the count cannot be stored in
    /// this type (Q8_0 needs whole blocks) or the type is unknown.
    pub fn byte_size(self, elements: u64) -> Option<u64> {
        match self {
            TensorType::F32 => elements.checked_mul(4),
            TensorType::F16 => elements.checked_mul(2),
            TensorType::Q8_0 => {
                let block = Q8_0_BLOCK_ELEMENTS as u64;
                if !elements.is_multiple_of(block) {
                    return None;
                }
                (elements / block).checked_mul(Q8_0_BLOCK_BYTES as u64)
            }
            TensorType::Other(_) => None,
        }
    }
}

/// The `gguf_type` number of a metadata value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueKind {
    pub(crate) fn from_id(id: u32) -> Option<Self> {
        Some(match id {
            0 => ValueKind::U8,
            1 => ValueKind::I8,
            2 => ValueKind::U16,
            3 => ValueKind::I16,
            4 => ValueKind::U32,
            5 => ValueKind::I32,
            6 => ValueKind::F32,
            7 => ValueKind::Bool,
            8 => ValueKind::String,
            9 => ValueKind::Array,
            10 => ValueKind::U64,
            11 => ValueKind::I64,
            12 => ValueKind::F64,
            _ => return None,
        })
    }
}

/// One metadata value. Arrays are homogeneous and never nested (llama.cpp rejects nesting).
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    U64(u64),
    I64(i64),
    F64(f64),
    Array(MetadataArray),
}

/// A homogeneous metadata array.
#[derive(Debug, Clone, PartialEq)]
pub enum MetadataArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl MetadataValue {
    pub(crate) fn kind(&self) -> ValueKind {
        match self {
            MetadataValue::U8(_) => ValueKind::U8,
            MetadataValue::I8(_) => ValueKind::I8,
            MetadataValue::U16(_) => ValueKind::U16,
            MetadataValue::I16(_) => ValueKind::I16,
            MetadataValue::U32(_) => ValueKind::U32,
            MetadataValue::I32(_) => ValueKind::I32,
            MetadataValue::F32(_) => ValueKind::F32,
            MetadataValue::Bool(_) => ValueKind::Bool,
            MetadataValue::String(_) => ValueKind::String,
            MetadataValue::U64(_) => ValueKind::U64,
            MetadataValue::I64(_) => ValueKind::I64,
            MetadataValue::F64(_) => ValueKind::F64,
            MetadataValue::Array(_) => ValueKind::Array,
        }
    }

    /// The value as an unsigned integer, whatever integer width it was stored with.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            MetadataValue::U8(v) => Some(u64::from(v)),
            MetadataValue::U16(v) => Some(u64::from(v)),
            MetadataValue::U32(v) => Some(u64::from(v)),
            MetadataValue::U64(v) => Some(v),
            MetadataValue::I8(v) => u64::try_from(v).ok(),
            MetadataValue::I16(v) => u64::try_from(v).ok(),
            MetadataValue::I32(v) => u64::try_from(v).ok(),
            MetadataValue::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a string slice, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetadataValue::String(s) => Some(s),
            _ => None,
        }
    }
}

impl MetadataArray {
    pub(crate) fn element_kind(&self) -> ValueKind {
        match self {
            MetadataArray::U8(_) => ValueKind::U8,
            MetadataArray::I8(_) => ValueKind::I8,
            MetadataArray::U16(_) => ValueKind::U16,
            MetadataArray::I16(_) => ValueKind::I16,
            MetadataArray::U32(_) => ValueKind::U32,
            MetadataArray::I32(_) => ValueKind::I32,
            MetadataArray::F32(_) => ValueKind::F32,
            MetadataArray::Bool(_) => ValueKind::Bool,
            MetadataArray::String(_) => ValueKind::String,
            MetadataArray::U64(_) => ValueKind::U64,
            MetadataArray::I64(_) => ValueKind::I64,
            MetadataArray::F64(_) => ValueKind::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            MetadataArray::U8(v) => v.len(),
            MetadataArray::I8(v) => v.len(),
            MetadataArray::U16(v) => v.len(),
            MetadataArray::I16(v) => v.len(),
            MetadataArray::U32(v) => v.len(),
            MetadataArray::I32(v) => v.len(),
            MetadataArray::F32(v) => v.len(),
            MetadataArray::Bool(v) => v.len(),
            MetadataArray::String(v) => v.len(),
            MetadataArray::U64(v) => v.len(),
            MetadataArray::I64(v) => v.len(),
            MetadataArray::F64(v) => v.len(),
        }
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where and how one tensor is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// Dimensions in ggml order: `dims[0]` is the contiguous (innermost) one, so a PyTorch
    /// weight of shape `[out, in]` is `[in, out]` here.
    pub dims: Vec<u64>,
    pub tensor_type: TensorType,
    /// Offset of the data from the start of the data section.
    pub offset: u64,
}

impl TensorInfo {
    /// Number of elements (product of the dimensions), `None` on overflow.
    pub fn element_count(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// Bytes of data, `None` when the type is unknown or the size overflows.
    pub fn byte_size(&self) -> Option<u64> {
        self.tensor_type.byte_size(self.element_count()?)
    }
}

/// Rounds `value` up to a multiple of `alignment` (which is a power of two ≥ 1).
pub(crate) fn align_up(value: u64, alignment: u64) -> u64 {
    value.div_ceil(alignment) * alignment
}
