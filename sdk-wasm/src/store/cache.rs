//! Fetch-through cache of model files by CID: read from the store when a verified copy is
//! there, otherwise download (resuming a partial copy), verify, then mark complete. Makes room
//! by evicting the least recently used models that are not in use.

use super::blob_store::{BlobStore, FileRecord, ModelRecord, Quota, CHUNK_BYTES};
use super::chunk_sums;
use super::fetch::{ByteStream, Fetcher};
use super::manifest::{ManifestFile, ModelManifest};
use super::wall_clock_ms;
use crate::core::error::{Error, Result};
use crate::weights::Cid;
use futures_util::future::{select, Either, FutureExt, LocalBoxFuture};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Share of the platform quota we allow ourselves (the rest is left for the page).
const QUOTA_SHARE: f64 = 0.9;

/// Where a file's bytes came from on this load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileOrigin {
    /// A verified copy in the store: no network.
    Cache,
    Network,
    /// A partial copy was continued with a range request.
    Resumed,
    /// The stored copy failed verification; it was deleted and downloaded again.
    Refetched,
    /// Downloaded but not stored (the store had no room even after eviction).
    Uncached,
}

/// What a load is doing with a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadPhase {
    /// Reading a stored copy back (`loaded` is 0 until it is read).
    Read,
    /// Bytes arriving from the network (`loaded` grows).
    Download,
    /// Checking the whole file against its CID.
    Verify,
}

/// How the bytes of a file read from the store were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoredCheck {
    /// Each chunk against the checksum taken when the file passed its CID check.
    ChunkSums,
    /// The whole file against its CID: the store had no checksums for it, or they differed.
    Cid,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadProgress {
    pub file: String,
    pub loaded: u64,
    pub total: u64,
    pub origin: FileOrigin,
    pub phase: LoadPhase,
}

/// The files a load asked for, verified, with where each came from.
#[derive(Default)]
pub struct LoadedModel {
    pub files: BTreeMap<String, Vec<u8>>,
    pub origins: BTreeMap<String, FileOrigin>,
    /// How each file read from the store was checked.
    pub checks: BTreeMap<String, StoredCheck>,
    /// Bytes that came over the network on this load.
    pub network_bytes: u64,
    pub timings: LoadTimings,
    /// Why the files were not stored, when the store failed during the load.
    pub store_error: Option<String>,
}

/// Where a load's time went (milliseconds).
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadTimings {
    /// Reading stored chunks back.
    pub store_read_ms: f64,
    /// Downloading, including writing each chunk to the store.
    pub transfer_ms: f64,
    /// Checking files: against their CIDs, or stored chunks against their checksums.
    pub verify_ms: f64,
}

/// Binds a tensor-id table to its file, so a damaged table is recomputed, never trusted.
fn ids_check(cid: &Cid, ids: &BTreeMap<String, Cid>) -> Cid {
    let text: String = ids.iter().map(|(name, id)| format!("{name}={id};")).collect();
    Cid::of(format!("{cid}:{text}").as_bytes())
}

/// Chunks read at once (overlapped where the store can): a bound on what is held twice.
const CHUNKS_PER_READ: u32 = 8;

/// The file's content id, its time added to the load's verify time.
async fn verified_cid(bytes: &[u8], t: &mut LoadTimings) -> Cid {
    let start = crate::clock::now_ms();
    let cid = Cid::of_file(bytes).await;
    t.verify_ms += crate::clock::now_ms() - start;
    cid
}

impl LoadedModel {
    pub fn take(&mut self, path: &str) -> Result<Vec<u8>> {
        self.files.remove(path).ok_or_else(|| Error::Model(format!("{path} was not loaded")))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheUsage {
    /// Bytes of stored files (complete and partial).
    pub bytes: u64,
    pub partial_bytes: u64,
    pub models: usize,
    pub files: usize,
    /// What the cache may use: the configured limit and/or the platform's quota.
    pub budget: Option<u64>,
    pub quota: Option<Quota>,
}

pub struct WeightCache<S> {
    store: S,
    max_bytes: Option<u64>,
}

impl<S: BlobStore> WeightCache<S> {
    /// `max_bytes` bounds the cache below what the platform's quota allows.
    pub fn new(store: S, max_bytes: Option<u64>) -> WeightCache<S> {
        WeightCache { store, max_bytes }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The files at `paths` of `manifest`, verified against their CIDs. Files are read from
    /// the store when possible and stored after download when there is room; the model's
    /// record (and last-used time) is updated. `in_use` names models that must not be evicted.
    ///
    /// When the store fails (a full disk, a database the browser closed), the model still
    /// loads: its files come from the network, what this load left half-written is removed
    /// where the store still allows, and `store_error` says what failed.
    pub async fn load<F: Fetcher>(
        &self,
        manifest: &ModelManifest,
        paths: &[&str],
        fetcher: &F,
        in_use: &[String],
        progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<LoadedModel> {
        let wanted: Vec<&ManifestFile> = paths.iter().map(|p| manifest.file(p)).collect::<Result<_>>()?;
        match self.load_through_store(manifest, &wanted, fetcher, in_use, progress).await {
            Err(Error::Store(failure)) => {
                self.forget_incomplete(&wanted).await;
                let mut loaded = self.load_files(&wanted, false, fetcher, progress).await?;
                loaded.store_error = Some(failure);
                Ok(loaded)
            }
            other => other,
        }
    }

    async fn load_through_store<F: Fetcher>(
        &self,
        manifest: &ModelManifest,
        wanted: &[&ManifestFile],
        fetcher: &F,
        in_use: &[String],
        progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<LoadedModel> {
        let mut missing = 0;
        for f in wanted {
            let have = match self.store.file(&f.cid).await? {
                Some(r) if r.size == f.size && r.complete => f.size,
                Some(r) if r.size == f.size => r.stored_bytes(),
                _ => 0,
            };
            missing += f.size - have;
        }
        let keep: BTreeSet<Cid> = wanted.iter().map(|f| f.cid).collect();
        let can_store = self.make_room(missing, &manifest.name, &keep, in_use).await?;
        let loaded = self.load_files(wanted, can_store, fetcher, progress).await?;
        if can_store {
            self.record_use(manifest, wanted).await?;
        }
        Ok(loaded)
    }

    /// Each of `wanted`, verified: through the store when `store`, else from the network only.
    async fn load_files<F: Fetcher>(
        &self,
        wanted: &[&ManifestFile],
        store: bool,
        fetcher: &F,
        progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<LoadedModel> {
        let mut loaded = LoadedModel::default();
        for f in wanted {
            let (bytes, origin, network) = self.file_bytes(fetcher, f, store, progress, &mut loaded.timings, &mut loaded.checks).await?;
            loaded.network_bytes += network;
            loaded.files.insert(f.path.clone(), bytes);
            loaded.origins.insert(f.path.clone(), origin);
        }
        Ok(loaded)
    }

    /// Best effort, after the store failed: delete the partial copies of `wanted` (a store
    /// that fails here too keeps them, and a later load resumes them against their CIDs).
    async fn forget_incomplete(&self, wanted: &[&ManifestFile]) {
        for f in wanted {
            if let Ok(Some(rec)) = self.store.file(&f.cid).await {
                if !rec.complete {
                    let _ = self.store.delete_file(&rec).await;
                }
            }
        }
    }

    /// Files that came without a manifest, trusted on first use: their ids are computed now,
    /// and they are stored and recorded under `name` (when there is room), so a later load of
    /// `name` finds them with [`WeightCache::pinned`] and verifies against these ids.
    pub async fn pin_first_use(
        &self,
        name: &str,
        files: BTreeMap<String, Vec<u8>>,
        in_use: &[String],
        progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<(ModelManifest, LoadedModel)> {
        let mut entries = Vec::with_capacity(files.len());
        for (path, bytes) in &files {
            entries.push(ManifestFile { path: path.clone(), cid: Cid::of_file(bytes).await, size: bytes.len() as u64 });
        }
        let version = format!("first-use-{}", ModelManifest::version_of(&entries));
        let manifest = ModelManifest { name: name.to_string(), version, files: entries, slices: Vec::new() };
        let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
        // The bytes move into the fetcher: a model's weights are not held twice while stored.
        let fetcher = super::MemoryFetcher { files };
        let loaded = self.load(&manifest, &paths, &fetcher, in_use, progress).await?;
        Ok((manifest, loaded))
    }

    /// The manifest pinned for `name` on its first use, when the store still records every
    /// one of `paths` for it.
    pub async fn pinned(&self, name: &str, paths: &[&str]) -> Result<Option<ModelManifest>> {
        let Some(record) = self.store.models().await?.into_iter().find(|m| m.name == name) else { return Ok(None) };
        if !record.version.starts_with("first-use-") || !paths.iter().all(|p| record.files.iter().any(|(f, _, _)| f == p)) {
            return Ok(None);
        }
        let files = record.files.iter().map(|(path, cid, size)| ManifestFile { path: path.clone(), cid: *cid, size: *size }).collect();
        Ok(Some(ModelManifest { name: record.name, version: record.version, files, slices: Vec::new() }))
    }

    /// Cached models, most recently used first.
    pub async fn list(&self) -> Result<Vec<ModelRecord>> {
        let mut models = self.store.models().await?;
        models.sort_by(|a, b| b.last_used_ms.total_cmp(&a.last_used_ms));
        Ok(models)
    }

    /// Forget a model and delete the files no other cached model uses. Whether it was cached.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        let models = self.store.models().await?;
        if !models.iter().any(|m| m.name == name) {
            return Ok(false);
        }
        self.store.delete_model(name).await?;
        self.collect_garbage(&BTreeSet::new()).await?;
        Ok(true)
    }

    /// Delete every model and file.
    pub async fn clear(&self) -> Result<()> {
        for m in self.store.models().await? {
            self.store.delete_model(&m.name).await?;
        }
        for f in self.store.files().await? {
            self.store.delete_file(&f).await?;
        }
        Ok(())
    }

    pub async fn usage(&self) -> Result<CacheUsage> {
        let files = self.store.files().await?;
        let quota = self.store.quota().await?;
        let bytes = files.iter().map(FileRecord::stored_bytes).sum();
        Ok(CacheUsage {
            bytes,
            partial_bytes: files.iter().filter(|f| !f.complete).map(FileRecord::stored_bytes).sum(),
            models: self.store.models().await?.len(),
            files: files.len(),
            budget: self.budget(quota, bytes),
            quota,
        })
    }

    /// Tensor content ids remembered for the verified file `cid` (empty if none, or if their
    /// checksum does not match: then they are simply computed again).
    pub async fn tensor_ids(&self, cid: &Cid) -> Result<BTreeMap<String, Cid>> {
        Ok(match self.store.file(cid).await? {
            Some(r) if r.complete && r.tensor_ids_check == Some(ids_check(cid, &r.tensor_ids)) => r.tensor_ids,
            _ => BTreeMap::new(),
        })
    }

    /// Remember the tensor content ids of the stored, verified file `cid`.
    pub async fn remember_tensor_ids(&self, cid: &Cid, ids: BTreeMap<String, Cid>) -> Result<()> {
        if let Some(mut record) = self.store.file(cid).await?.filter(|r| r.complete) {
            record.tensor_ids_check = Some(ids_check(cid, &ids));
            record.tensor_ids = ids;
            self.store.put_file(&record).await?;
        }
        Ok(())
    }

    /// Ask the platform to keep this store under storage pressure.
    pub async fn persist(&self) -> Result<bool> {
        self.store.persist().await
    }

    fn budget(&self, quota: Option<Quota>, stored: u64) -> Option<u64> {
        // What others on this origin use is not ours to evict.
        let from_quota = quota.map(|q| ((q.quota as f64 * QUOTA_SHARE) as u64).saturating_sub(q.usage.saturating_sub(stored)));
        match (self.max_bytes, from_quota) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Evict until `needed` more bytes fit: first files no model uses, then whole models,
    /// least recently used first, never `loading` or one `in_use`. Whether it now fits.
    async fn make_room(&self, needed: u64, loading: &str, keep: &BTreeSet<Cid>, in_use: &[String]) -> Result<bool> {
        let stored = |files: &[FileRecord]| files.iter().map(FileRecord::stored_bytes).sum::<u64>();
        let files = self.store.files().await?;
        let Some(budget) = self.budget(self.store.quota().await?, stored(&files)) else { return Ok(true) };
        if needed > budget {
            return Ok(false);
        }
        if stored(&files) + needed <= budget {
            return Ok(true);
        }
        self.collect_garbage(keep).await?;
        let mut models = self.store.models().await?;
        models.retain(|m| m.name != loading && !in_use.contains(&m.name));
        models.sort_by(|a, b| a.last_used_ms.total_cmp(&b.last_used_ms));
        for m in models {
            if stored(&self.store.files().await?) + needed <= budget {
                break;
            }
            self.store.delete_model(&m.name).await?;
            self.collect_garbage(keep).await?;
        }
        Ok(stored(&self.store.files().await?) + needed <= budget)
    }

    /// Delete stored files that no model record lists, except those in `keep`.
    async fn collect_garbage(&self, keep: &BTreeSet<Cid>) -> Result<()> {
        let referenced: BTreeSet<Cid> = self.store.models().await?.iter().flat_map(|m| m.files.iter().map(|f| f.1)).collect();
        for f in self.store.files().await? {
            if !referenced.contains(&f.cid) && !keep.contains(&f.cid) {
                self.store.delete_file(&f).await?;
            }
        }
        Ok(())
    }

    async fn record_use(&self, manifest: &ModelManifest, wanted: &[&ManifestFile]) -> Result<()> {
        let now = wall_clock_ms();
        let previous = self.store.models().await?.into_iter().find(|m| m.name == manifest.name);
        let mut record = match previous {
            Some(m) if m.version == manifest.version => ModelRecord { last_used_ms: now, ..m },
            _ => ModelRecord {
                name: manifest.name.clone(),
                version: manifest.version.clone(),
                files: Vec::new(),
                last_used_ms: now,
                stored_at_ms: now,
            },
        };
        for f in wanted {
            if !record.files.iter().any(|(p, _, _)| *p == f.path) {
                record.files.push((f.path.clone(), f.cid, f.size));
            }
        }
        self.store.put_model(&record).await?;
        // A new version leaves the old version's files unreferenced.
        self.collect_garbage(&wanted.iter().map(|f| f.cid).collect()).await
    }

    /// One file's verified bytes, where they came from, and how many came over the network.
    async fn file_bytes<F: Fetcher>(
        &self,
        fetcher: &F,
        f: &ManifestFile,
        store: bool,
        progress: &mut dyn FnMut(LoadProgress),
        t: &mut LoadTimings,
        checks: &mut BTreeMap<String, StoredCheck>,
    ) -> Result<(Vec<u8>, FileOrigin, u64)> {
        let mut origin = if store { FileOrigin::Network } else { FileOrigin::Uncached };
        let existing = if store { self.store.file(&f.cid).await? } else { None };
        let mut prefix = Vec::new();
        let event =
            |loaded: u64, origin: FileOrigin, phase: LoadPhase| LoadProgress { file: f.path.clone(), loaded, total: f.size, origin, phase };
        if let Some(rec) = existing {
            progress(event(0, FileOrigin::Cache, LoadPhase::Read));
            let start = crate::clock::now_ms();
            let stored = self.read_chunks(&rec).await?;
            t.store_read_ms += crate::clock::now_ms() - start;
            match stored {
                Some(bytes) if rec.complete && rec.size == f.size => {
                    progress(event(f.size, FileOrigin::Cache, LoadPhase::Verify));
                    if let Some(check) = self.check_stored(&rec, &bytes, t).await? {
                        checks.insert(f.path.clone(), check);
                        return Ok((bytes, FileOrigin::Cache, 0));
                    }
                    // Damaged in the store: fetched again.
                    self.store.delete_file(&rec).await?;
                    origin = FileOrigin::Refetched;
                }
                Some(bytes) if !rec.complete && rec.size == f.size => {
                    origin = FileOrigin::Resumed;
                    prefix = bytes;
                }
                _ => {
                    self.store.delete_file(&rec).await?;
                    origin = FileOrigin::Refetched;
                }
            }
        }
        let network = f.size - prefix.len() as u64;
        let start = crate::clock::now_ms();
        let bytes = self.download(fetcher, f, prefix, store, origin, progress).await?;
        t.transfer_ms += crate::clock::now_ms() - start;
        progress(event(f.size, origin, LoadPhase::Verify));
        match self.finish(f, bytes, store, origin, network, fetcher, t).await {
            // The stored part may have been the bad one: start over once.
            Err(Error::HashMismatch { .. }) if origin == FileOrigin::Resumed => {
                let start = crate::clock::now_ms();
                let bytes = self.download(fetcher, f, Vec::new(), store, FileOrigin::Refetched, progress).await?;
                t.transfer_ms += crate::clock::now_ms() - start;
                progress(event(f.size, FileOrigin::Refetched, LoadPhase::Verify));
                self.finish(f, bytes, store, FileOrigin::Refetched, network + f.size, fetcher, t).await
            }
            other => other,
        }
    }

    /// Verify the whole file; mark it complete in the store, or delete it on a mismatch.
    #[allow(clippy::too_many_arguments)]
    async fn finish<F: Fetcher>(
        &self,
        f: &ManifestFile,
        bytes: Vec<u8>,
        store: bool,
        origin: FileOrigin,
        network: u64,
        fetcher: &F,
        t: &mut LoadTimings,
    ) -> Result<(Vec<u8>, FileOrigin, u64)> {
        let actual = verified_cid(&bytes, t).await;
        if actual != f.cid {
            if let Some(rec) = self.store.file(&f.cid).await? {
                self.store.delete_file(&rec).await?;
            }
            return Err(Error::HashMismatch { file: fetcher.describe(f), expected: f.cid.to_string(), actual: actual.to_string() });
        }
        if store {
            let start = crate::clock::now_ms();
            let chunk_sums = chunk_sums::of_chunks(&bytes);
            t.verify_ms += crate::clock::now_ms() - start;
            let chunks_stored = f.size.div_ceil(CHUNK_BYTES) as u32;
            let record = FileRecord { complete: true, chunk_sums, ..FileRecord::partial(f.cid, f.size, chunks_stored) };
            self.store.put_file(&record).await?;
        }
        Ok((bytes, origin, network))
    }

    /// How the complete stored copy `bytes` of `rec` was found intact, or None when it is not:
    /// by its chunk checksums when it has them, else (or when they differ) by its CID, after
    /// which the checksums are recorded for the next load.
    async fn check_stored(&self, rec: &FileRecord, bytes: &[u8], t: &mut LoadTimings) -> Result<Option<StoredCheck>> {
        let start = crate::clock::now_ms();
        let sums = chunk_sums::of_chunks(bytes);
        t.verify_ms += crate::clock::now_ms() - start;
        if sums.len() == rec.chunk_count() as usize && sums == rec.chunk_sums {
            return Ok(Some(StoredCheck::ChunkSums));
        }
        if verified_cid(bytes, t).await != rec.cid {
            return Ok(None);
        }
        self.store.put_file(&FileRecord { chunk_sums: sums, ..rec.clone() }).await?;
        Ok(Some(StoredCheck::Cid))
    }

    /// Chunks 0..chunks_stored concatenated, or None when one is missing or the wrong size.
    async fn read_chunks(&self, rec: &FileRecord) -> Result<Option<Vec<u8>>> {
        let mut bytes = Vec::with_capacity(rec.stored_bytes() as usize);
        let mut first = 0;
        while first < rec.chunks_stored {
            let last = (first + CHUNKS_PER_READ).min(rec.chunks_stored);
            if !self.store.append_chunks(rec, first..last, &mut bytes).await? {
                return Ok(None);
            }
            first = last;
        }
        Ok(Some(bytes))
    }

    /// Continue `prefix` to the whole file from the network, storing each whole chunk as it
    /// arrives (with the file's progress) so an interruption resumes there.
    async fn download<F: Fetcher>(
        &self,
        fetcher: &F,
        f: &ManifestFile,
        mut bytes: Vec<u8>,
        store: bool,
        origin: FileOrigin,
        progress: &mut dyn FnMut(LoadProgress),
    ) -> Result<Vec<u8>> {
        let name = fetcher.describe(f);
        let fetch_err = |detail: String| Error::Fetch { url: name.clone(), detail };
        bytes.reserve(f.size as usize - bytes.len().min(f.size as usize));
        let mut stream = fetcher.open(f, bytes.len() as u64).await?;
        // A server that ignores the range starts at 0: skip what we already have.
        let mut skip =
            (bytes.len() as u64).checked_sub(stream.starts_at()).ok_or_else(|| fetch_err("range starts past the request".into()))?;
        let chunks_stored = (bytes.len() as u64 / CHUNK_BYTES) as u32;
        let mut record = FileRecord::partial(f.cid, f.size, chunks_stored);
        // One chunk write in flight while the next bytes arrive: storing 90 MB in IndexedDB
        // takes about as long as downloading it from a fast server.
        let mut writing: Option<LocalBoxFuture<'_, Result<()>>> = None;
        loop {
            let next = match writing.take() {
                None => stream.next().await,
                Some(write) => match select(write, Box::pin(stream.next())).await {
                    Either::Left((written, next)) => {
                        written?;
                        next.await
                    }
                    Either::Right((next, write)) => {
                        writing = Some(write);
                        next
                    }
                },
            };
            let piece = match next {
                Ok(Some(piece)) => piece,
                Ok(None) => break,
                Err(e) => {
                    // Keep what was being stored: a later load resumes after it.
                    if let Some(write) = writing.take() {
                        write.await?;
                    }
                    return Err(e);
                }
            };
            let used = skip.min(piece.len() as u64);
            skip -= used;
            bytes.extend_from_slice(&piece[used as usize..]);
            if bytes.len() as u64 > f.size {
                return Err(fetch_err(format!("more than the manifest's {} bytes", f.size)));
            }
            while store && (record.chunks_stored as u64 + 1) * CHUNK_BYTES <= bytes.len() as u64 {
                if let Some(write) = writing.take() {
                    write.await?;
                }
                writing = Some(self.write_next_chunk(&mut record, &bytes));
            }
            progress(LoadProgress { file: f.path.clone(), loaded: bytes.len() as u64, total: f.size, origin, phase: LoadPhase::Download });
        }
        if let Some(write) = writing.take() {
            write.await?;
        }
        if bytes.len() as u64 != f.size {
            return Err(fetch_err(format!("ended after {} of {} bytes", bytes.len(), f.size)));
        }
        while store && record.chunks_stored < record.chunk_count() {
            self.write_next_chunk(&mut record, &bytes).await?;
        }
        Ok(bytes)
    }

    /// Store chunk `record.chunks_stored` of `bytes` with the record counting it. The future
    /// owns a copy of the chunk, so `bytes` may grow while it runs.
    fn write_next_chunk(&self, record: &mut FileRecord, bytes: &[u8]) -> LocalBoxFuture<'_, Result<()>> {
        let i = record.chunks_stored;
        let start = i as usize * CHUNK_BYTES as usize;
        let end = (start + CHUNK_BYTES as usize).min(bytes.len());
        record.chunks_stored += 1;
        let (record, chunk) = (record.clone(), bytes[start..end].to_vec());
        async move { self.store.put_chunk(&record, i, &chunk).await }.boxed_local()
    }
}
