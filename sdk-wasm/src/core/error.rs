//! The crate's one error type.

/// Everything that can go wrong in the SDK, each variant naming what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("shape mismatch in {op}: {detail}")]
    Shape { op: &'static str, detail: String },
    #[error("{op} does not support dtype {dtype:?} yet")]
    UnsupportedDType { op: &'static str, dtype: super::DType },
    #[error("{backend} cannot run {op}: {reason}")]
    Unsupported { backend: &'static str, op: &'static str, reason: String },
    #[error("tensor data has {got} elements but shape {shape} needs {expected}")]
    DataLength { shape: String, expected: usize, got: usize },
    #[error("tensors live on different devices ({0}); move them with to_device first")]
    DeviceMismatch(String),
    #[error("no GPU adapter available: {0}")]
    NoAdapter(String),
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error("shader {file} is invalid:\n{message}")]
    Shader { file: String, message: String },
    #[error("bad {format} weights: {detail}")]
    Weights { format: &'static str, detail: String },
    #[error("content id: {0}")]
    Cid(String),
    #[error("weight store: {0}")]
    Store(String),
    #[error("fetching {url}: {detail}")]
    Fetch { url: String, detail: String },
    #[error("{file}: content does not match its id (expected {expected}, got {actual}); nothing was cached")]
    HashMismatch { file: String, expected: String, actual: String },
    #[error("model: {0}")]
    Model(String),
    /// An input image that cannot be used (empty, wrong pixel count, undecodable).
    #[error("image: {0}")]
    Image(String),
    /// Audio that cannot be used (empty, not a supported WAV, a rate that is not audio).
    #[error("audio: {0}")]
    Audio(String),
    /// An option a caller passed (JS API, CLI or Rust), named in the caller's spelling.
    #[error("{option}: {detail}")]
    InvalidOption { option: String, detail: String },
    #[error("invalid benchmark case: {0}")]
    BadCase(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn shape(op: &'static str, detail: impl Into<String>) -> Self {
        Error::Shape { op, detail: detail.into() }
    }
}
