//! The native store: one directory. `files/<cid>.json` records, `chunks/<cid>/<index>`,
//! `models/<id of the name>.json`. Every write goes to a temporary file first and is renamed
//! into place, so a crash leaves either the old or the new version, never half of one.

use super::blob_store::{BlobStore, FileRecord, ModelRecord, Quota};
use crate::core::error::{Error, Result};
use crate::weights::Cid;
use std::path::{Path, PathBuf};

pub struct DirStore {
    root: PathBuf,
}

impl DirStore {
    pub fn open(root: impl Into<PathBuf>) -> Result<DirStore> {
        let root = root.into();
        for sub in ["files", "chunks", "models"] {
            std::fs::create_dir_all(root.join(sub)).map_err(|e| io_error(&root.join(sub), e))?;
        }
        Ok(DirStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn record_path(&self, cid: &Cid) -> PathBuf {
        self.root.join("files").join(format!("{cid}.json"))
    }

    fn chunk_path(&self, cid: &Cid, index: u32) -> PathBuf {
        self.root.join("chunks").join(cid.to_string()).join(index.to_string())
    }

    fn model_path(&self, name: &str) -> PathBuf {
        // Model names may hold any character; their id is a safe file name.
        self.root.join("models").join(format!("{}.json", Cid::of(name.as_bytes())))
    }
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Store(format!("{}: {e}", path.display()))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial-write");
    std::fs::write(&tmp, bytes).map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, e))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Store(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

fn read_json_dir<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?.flatten() {
        if entry.path().extension().is_some_and(|x| x == "json") {
            out.extend(read_json(&entry.path())?);
        }
    }
    Ok(out)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Store(e.to_string()))
}

impl BlobStore for DirStore {
    async fn file(&self, cid: &Cid) -> Result<Option<FileRecord>> {
        read_json(&self.record_path(cid))
    }

    async fn files(&self) -> Result<Vec<FileRecord>> {
        read_json_dir(&self.root.join("files"))
    }

    async fn put_chunk(&self, record: &FileRecord, index: u32, bytes: &[u8]) -> Result<()> {
        let path = self.chunk_path(&record.cid, index);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        // Chunk first, then the record that says it is there.
        write_atomically(&path, bytes)?;
        self.put_file(record).await
    }

    async fn put_file(&self, record: &FileRecord) -> Result<()> {
        write_atomically(&self.record_path(&record.cid), &to_json(record)?)
    }

    async fn chunk(&self, cid: &Cid, index: u32) -> Result<Option<Vec<u8>>> {
        let path = self.chunk_path(cid, index);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    async fn delete_file(&self, record: &FileRecord) -> Result<()> {
        // Record first: without it, leftover chunks are never read.
        let path = self.record_path(&record.cid);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&path, e)),
            _ => {}
        }
        let dir = self.root.join("chunks").join(record.cid.to_string());
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(&dir, e)),
            _ => Ok(()),
        }
    }

    async fn models(&self) -> Result<Vec<ModelRecord>> {
        read_json_dir(&self.root.join("models"))
    }

    async fn put_model(&self, model: &ModelRecord) -> Result<()> {
        write_atomically(&self.model_path(&model.name), &to_json(model)?)
    }

    async fn delete_model(&self, name: &str) -> Result<()> {
        let path = self.model_path(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(&path, e)),
            _ => Ok(()),
        }
    }

    async fn quota(&self) -> Result<Option<Quota>> {
        // Natively the limit is whatever the user configures (WeightCache::new's max_bytes).
        Ok(None)
    }

    async fn persist(&self) -> Result<bool> {
        // A directory is never evicted by anyone but us.
        Ok(true)
    }
}
