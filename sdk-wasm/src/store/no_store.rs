//! A store that keeps nothing: loads still verify every file, nothing is written. Used when
//! caching is turned off or IndexedDB cannot be opened (e.g. some private-browsing modes).

use super::blob_store::{BlobStore, FileRecord, ModelRecord, Quota};
use crate::core::error::Result;
use crate::weights::Cid;

pub struct NoStore;

impl BlobStore for NoStore {
    async fn file(&self, _: &Cid) -> Result<Option<FileRecord>> {
        Ok(None)
    }
    async fn files(&self) -> Result<Vec<FileRecord>> {
        Ok(Vec::new())
    }
    async fn put_chunk(&self, _: &FileRecord, _: u32, _: &[u8]) -> Result<()> {
        Ok(())
    }
    async fn put_file(&self, _: &FileRecord) -> Result<()> {
        Ok(())
    }
    async fn chunk(&self, _: &Cid, _: u32) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    async fn delete_file(&self, _: &FileRecord) -> Result<()> {
        Ok(())
    }
    async fn models(&self) -> Result<Vec<ModelRecord>> {
        Ok(Vec::new())
    }
    async fn put_model(&self, _: &ModelRecord) -> Result<()> {
        Ok(())
    }
    async fn delete_model(&self, _: &str) -> Result<()> {
        Ok(())
    }
    async fn quota(&self) -> Result<Option<Quota>> {
        // No room at all: the cache loads every file without storing it.
        Ok(Some(Quota { usage: 0, quota: 0 }))
    }
    async fn persist(&self) -> Result<bool> {
        Ok(false)
    }
}
