//! The one storage trait, implemented by IndexedDB (browser) and a directory (native).

use crate::core::error::Result;
use crate::weights::Cid;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Files are stored in pieces of this size: no single huge buffer in IndexedDB, and an
/// interrupted download resumes at the last whole chunk.
pub const CHUNK_BYTES: u64 = 4 << 20;

/// One file's state in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub cid: Cid,
    pub size: u64,
    /// Chunks 0..chunks_stored are written.
    pub chunks_stored: u32,
    /// All chunks written and the whole file verified against `cid`.
    pub complete: bool,
    /// Content ids of the tensors inside (by name), derived from the verified file so later
    /// loads need not hash every tensor again; with a checksum binding them to `cid`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tensor_ids: BTreeMap<String, Cid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensor_ids_check: Option<Cid>,
    /// A checksum of each chunk, taken from the bytes that passed the CID check
    /// (`store::chunk_sums`); empty in stores written before them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunk_sums: Vec<u64>,
}

impl FileRecord {
    /// A file with its first `chunks_stored` chunks written and nothing verified yet.
    pub fn partial(cid: Cid, size: u64, chunks_stored: u32) -> FileRecord {
        FileRecord {
            cid,
            size,
            chunks_stored,
            complete: false,
            tensor_ids: BTreeMap::new(),
            tensor_ids_check: None,
            chunk_sums: Vec::new(),
        }
    }

    pub fn chunk_count(&self) -> u32 {
        self.size.div_ceil(CHUNK_BYTES) as u32
    }

    /// The length chunk `index` has in the file.
    pub fn chunk_len(&self, index: u32) -> usize {
        self.size.saturating_sub(index as u64 * CHUNK_BYTES).min(CHUNK_BYTES) as usize
    }

    pub fn stored_bytes(&self) -> u64 {
        (self.chunks_stored as u64 * CHUNK_BYTES).min(self.size)
    }
}

/// A cached model: which files (by CID) it uses, and when it was last loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    pub name: String,
    pub version: String,
    /// (path in the model, CID, size)
    pub files: Vec<(String, Cid, u64)>,
    pub last_used_ms: f64,
    pub stored_at_ms: f64,
}

impl ModelRecord {
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.2).sum()
    }
}

/// What the platform says about storage for this origin (`navigator.storage.estimate()`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quota {
    pub usage: u64,
    pub quota: u64,
}

/// Put/get by CID, in chunks, plus model metadata. Writes that belong together (a chunk and
/// its file's progress; a file record and all its chunks on delete) are atomic.
#[allow(async_fn_in_trait)] // used single-threaded in the browser; natively from one task
pub trait BlobStore {
    async fn file(&self, cid: &Cid) -> Result<Option<FileRecord>>;
    async fn files(&self) -> Result<Vec<FileRecord>>;
    /// Write chunk `index` and the file's updated record together.
    async fn put_chunk(&self, record: &FileRecord, index: u32, bytes: &[u8]) -> Result<()>;
    async fn put_file(&self, record: &FileRecord) -> Result<()>;
    async fn chunk(&self, cid: &Cid, index: u32) -> Result<Option<Vec<u8>>>;
    /// Append chunks `indices` of `file` to `out`, in order (a store that can overlaps the
    /// reads). False when one is missing or not the length its place in the file gives; `out`
    /// then holds only part of them.
    async fn append_chunks(&self, file: &FileRecord, indices: std::ops::Range<u32>, out: &mut Vec<u8>) -> Result<bool> {
        for i in indices {
            match self.chunk(&file.cid, i).await? {
                Some(c) if c.len() == file.chunk_len(i) => out.extend_from_slice(&c),
                _ => return Ok(false),
            }
        }
        Ok(true)
    }
    /// Remove a file's record and every chunk it has.
    async fn delete_file(&self, record: &FileRecord) -> Result<()>;
    async fn models(&self) -> Result<Vec<ModelRecord>>;
    async fn put_model(&self, model: &ModelRecord) -> Result<()>;
    async fn delete_model(&self, name: &str) -> Result<()>;
    /// The platform's quota, where it has one.
    async fn quota(&self) -> Result<Option<Quota>>;
    /// Ask the platform not to evict this store under pressure; whether it agreed.
    async fn persist(&self) -> Result<bool>;
}
