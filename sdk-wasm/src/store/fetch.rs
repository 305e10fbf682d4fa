//! Where files come from: an HTTP URL or gateway (browser), or a directory (native).

use super::ManifestFile;
use crate::core::error::Result;

/// Bytes of one file, from an offset, in pieces.
#[allow(async_fn_in_trait)]
pub trait ByteStream {
    /// Where the stream really starts (a server may ignore a range request and start at 0).
    fn starts_at(&self) -> u64;
    async fn next(&mut self) -> Result<Option<Vec<u8>>>;
}

#[allow(async_fn_in_trait)]
pub trait Fetcher {
    type Stream: ByteStream;
    /// Open `file` at byte `from` (a range request when `from > 0`).
    async fn open(&self, file: &ManifestFile, from: u64) -> Result<Self::Stream>;
    /// Open `file` at byte `from`, wanting bytes up to `end` (exclusive) only. The stream may
    /// run past `end` (readers stop there); where the source can, it sends just the range.
    async fn open_range(&self, file: &ManifestFile, from: u64, _end: u64) -> Result<Self::Stream> {
        self.open(file, from).await
    }
    /// What to call the file in messages (its URL or path).
    fn describe(&self, file: &ManifestFile) -> String;
}

/// Files already in memory, by manifest path (e.g. downloaded before their ids were known).
pub struct MemoryFetcher {
    pub files: std::collections::BTreeMap<String, Vec<u8>>,
}

/// The rest of one in-memory file, in one piece.
pub struct MemoryStream {
    piece: Option<Vec<u8>>,
    starts_at: u64,
}

impl ByteStream for MemoryStream {
    fn starts_at(&self) -> u64 {
        self.starts_at
    }

    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        Ok(self.piece.take().filter(|p| !p.is_empty()))
    }
}

impl Fetcher for MemoryFetcher {
    type Stream = MemoryStream;

    async fn open(&self, file: &ManifestFile, from: u64) -> Result<MemoryStream> {
        let bytes =
            self.files.get(&file.path).ok_or_else(|| crate::Error::Fetch { url: file.path.clone(), detail: "not in memory".into() })?;
        let from = from.min(bytes.len() as u64);
        Ok(MemoryStream { piece: Some(bytes[from as usize..].to_vec()), starts_at: from })
    }

    fn describe(&self, file: &ManifestFile) -> String {
        file.path.clone()
    }
}

/// Files of a directory, by manifest path.
#[cfg(not(target_arch = "wasm32"))]
pub struct DirFetcher {
    pub root: std::path::PathBuf,
    /// Largest piece handed out at a time.
    pub piece_bytes: usize,
}

#[cfg(not(target_arch = "wasm32"))]
impl DirFetcher {
    pub fn new(root: impl Into<std::path::PathBuf>) -> DirFetcher {
        DirFetcher { root: root.into(), piece_bytes: 1 << 20 }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub struct DirStream {
    file: std::fs::File,
    starts_at: u64,
    piece_bytes: usize,
    name: String,
}

#[cfg(not(target_arch = "wasm32"))]
impl ByteStream for DirStream {
    fn starts_at(&self) -> u64 {
        self.starts_at
    }

    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        use std::io::Read;
        let mut piece = vec![0u8; self.piece_bytes];
        let n = self.file.read(&mut piece).map_err(|e| crate::Error::Fetch { url: self.name.clone(), detail: e.to_string() })?;
        piece.truncate(n);
        Ok((n > 0).then_some(piece))
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Fetcher for DirFetcher {
    type Stream = DirStream;

    async fn open(&self, file: &ManifestFile, from: u64) -> Result<DirStream> {
        use std::io::{Seek, SeekFrom};
        let name = self.describe(file);
        let err = |e: std::io::Error| crate::Error::Fetch { url: name.clone(), detail: e.to_string() };
        let mut f = std::fs::File::open(self.root.join(&file.path)).map_err(err)?;
        f.seek(SeekFrom::Start(from)).map_err(err)?;
        Ok(DirStream { file: f, starts_at: from, piece_bytes: self.piece_bytes.max(1), name })
    }

    fn describe(&self, file: &ManifestFile) -> String {
        self.root.join(&file.path).display().to_string()
    }
}
