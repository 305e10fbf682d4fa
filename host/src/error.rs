//! The host's one error type.

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("DuckDB ({context}): {source}")]
    Db { context: String, source: duckdb::Error },
    #[error("WebDriver ({context}): {message}")]
    WebDriver { context: String, message: String },
    #[error("browser {browser}: {message}")]
    Browser { browser: String, message: String },
    /// A pool slot went out of rotation while the request waited for it (it was not tried).
    #[error("pool slot {0} is out of rotation")]
    SlotUnavailable(usize),
    /// The page ran the call and rejected it: the request was at fault, not the browser.
    #[error("browser {browser}: {message}")]
    Page { browser: String, message: String },
    #[error("{backend}: {message}")]
    Backend { backend: &'static str, message: String },
    #[error("{0}")]
    Sdk(#[from] ipfs_accelerate::Error),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, HostError>;

/// Attach a description of what was being done to lower-level errors.
pub trait Context<T> {
    fn context(self, what: impl Into<String>) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, std::io::Error> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|source| HostError::Io { context: what.into(), source })
    }
}

impl<T> Context<T> for std::result::Result<T, duckdb::Error> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|source| HostError::Db { context: what.into(), source })
    }
}
