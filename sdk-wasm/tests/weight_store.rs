//! The content-addressed weight cache over the real native store (a directory) and real files:
//! verification, chunking, resume, corruption, eviction, versions.

use ipfs_accelerate::store::{
    BlobStore, ByteStream, DirFetcher, DirStore, DirStream, Fetcher, FileOrigin, FileRecord, ManifestFile, ModelManifest, StoredCheck,
    WeightCache, CHUNK_BYTES,
};
use ipfs_accelerate::weights::Cid;
use ipfs_accelerate::{Error, Result};
use pollster::block_on;
use std::path::PathBuf;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("ipfs-accelerate-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("source")).ok();
        Scratch(dir)
    }

    /// A model directory with a config and a weight file of `weight_bytes` seeded bytes.
    fn model(&self, name: &str, weight_bytes: usize, seed: u8) -> ModelManifest {
        let dir = self.0.join("source").join(name);
        std::fs::create_dir_all(&dir).ok();
        let weights: Vec<u8> = (0..weight_bytes).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
        std::fs::write(dir.join("model.bin"), weights).ok();
        std::fs::write(dir.join("config.json"), format!("{{\"seed\":{seed}}}")).ok();
        ModelManifest::for_dir(name, &dir).unwrap_or_else(|e| panic!("manifest: {e}"))
    }

    fn fetcher(&self, name: &str) -> DirFetcher {
        DirFetcher::new(self.0.join("source").join(name))
    }

    fn cache(&self, max_bytes: Option<u64>) -> WeightCache<DirStore> {
        WeightCache::new(DirStore::open(self.0.join("store")).unwrap_or_else(|e| panic!("{e}")), max_bytes)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const FILES: [&str; 2] = ["config.json", "model.bin"];

fn load(
    cache: &WeightCache<DirStore>,
    m: &ModelManifest,
    f: &impl Fetcher,
    in_use: &[String],
) -> Result<ipfs_accelerate::store::LoadedModel> {
    block_on(cache.load(m, &FILES, f, in_use, &mut |_| {}))
}

#[test]
fn second_load_reads_the_store_not_the_source() {
    let s = Scratch::new("second");
    let m = s.model("a", 9 << 20, 1);
    let cache = s.cache(None);
    let first = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.origins["model.bin"], FileOrigin::Network);
    assert_eq!(first.network_bytes, m.files.iter().map(|f| f.size).sum::<u64>());
    // The source is gone: only the store can answer now.
    std::fs::remove_dir_all(s.0.join("source/a")).ok();
    let second = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second.network_bytes, 0);
    assert!(second.origins.values().all(|o| *o == FileOrigin::Cache));
    assert_eq!(Cid::of(&second.files["model.bin"]), m.file("model.bin").map(|f| f.cid).unwrap_or_else(|e| panic!("{e}")));
    let listed = block_on(cache.list()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].bytes(), first.network_bytes);
    // Stored in whole chunks, not one big file.
    let rec = block_on(cache.store().file(&m.files[1].cid)).ok().flatten().unwrap_or_else(|| panic!("no record"));
    assert_eq!(rec.chunks_stored, (9u64 << 20).div_ceil(CHUNK_BYTES) as u32);
}

#[test]
fn stored_copies_are_checked_by_chunk_sums_and_fall_back_to_the_cid() {
    let s = Scratch::new("sums");
    let m = s.model("a", 9 << 20, 3);
    let cache = s.cache(None);
    let first = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(first.checks.is_empty(), "a download is checked against the CID, not reported as a stored check");
    let weights = m.file("model.bin").unwrap_or_else(|e| panic!("{e}")).clone();
    let record = || block_on(cache.store().file(&weights.cid)).ok().flatten().unwrap_or_else(|| panic!("no record"));
    assert_eq!(record().chunk_sums.len(), 3, "one checksum per 4 MiB chunk of 9 MiB");
    let second = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(second.checks["model.bin"], StoredCheck::ChunkSums);
    assert_eq!(second.origins["model.bin"], FileOrigin::Cache);
    // A store written before checksums existed: hashed against the CID, then given them.
    block_on(cache.store().put_file(&FileRecord { chunk_sums: Vec::new(), ..record() })).unwrap_or_else(|e| panic!("{e}"));
    let older = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((older.checks["model.bin"], older.origins["model.bin"]), (StoredCheck::Cid, FileOrigin::Cache));
    assert_eq!(record().chunk_sums.len(), 3);
    // Damaged checksums never reject an intact copy: the CID decides, and the sums are rewritten.
    let good = record().chunk_sums;
    block_on(cache.store().put_file(&FileRecord { chunk_sums: vec![1, 2, 3], ..record() })).unwrap_or_else(|e| panic!("{e}"));
    let damaged = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((damaged.checks["model.bin"], damaged.network_bytes), (StoredCheck::Cid, 0));
    assert_eq!(record().chunk_sums, good);
    assert_eq!(Cid::of(&damaged.files["model.bin"]), weights.cid);
}

#[test]
fn a_corrupted_chunk_is_detected_and_fetched_again() {
    let s = Scratch::new("corrupt");
    let m = s.model("a", 6 << 20, 2);
    let cache = s.cache(None);
    load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let weights = m.file("model.bin").unwrap_or_else(|e| panic!("{e}")).clone();
    let chunk = s.0.join("store/chunks").join(weights.cid.to_string()).join("1");
    let mut bytes = std::fs::read(&chunk).unwrap_or_default();
    bytes[100] ^= 0xff;
    std::fs::write(&chunk, bytes).ok();
    let again = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.origins["model.bin"], FileOrigin::Refetched);
    assert_eq!(again.origins["config.json"], FileOrigin::Cache);
    assert_eq!(Cid::of(&again.files["model.bin"]), weights.cid);
    // And the repaired copy serves the next load.
    let third = load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(third.network_bytes, 0);
}

#[test]
fn a_hash_mismatch_is_rejected_and_nothing_is_cached() {
    let s = Scratch::new("mismatch");
    let mut m = s.model("a", 5 << 20, 3);
    m.files[1].cid = Cid::of(b"something else");
    let cache = s.cache(None);
    let err = load(&cache, &m, &s.fetcher("a"), &[]).err().unwrap_or_else(|| panic!("a wrong CID must be rejected"));
    let text = err.to_string();
    assert!(matches!(err, Error::HashMismatch { .. }), "{text}");
    assert!(text.contains("model.bin") && text.contains(&m.files[1].cid.to_string()), "{text}");
    let store = cache.store();
    assert_eq!(block_on(store.file(&m.files[1].cid)).ok().flatten(), None);
    assert!(std::fs::read_dir(s.0.join("store/chunks")).map(|d| d.count()).unwrap_or(0) <= 1, "only config.json's chunks may remain");
    assert!(block_on(cache.list()).unwrap_or_default().is_empty(), "no model record for a failed load");
}

/// Test double for a dropped connection (a real network cannot be cut on cue here): the
/// real directory source, ending with an error after `limit` bytes.
struct ConnectionDroppedAfter {
    inner: DirFetcher,
    limit: u64,
}

struct CutStream {
    inner: DirStream,
    left: u64,
}

impl ByteStream for CutStream {
    fn starts_at(&self) -> u64 {
        self.inner.starts_at()
    }

    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        if self.left == 0 {
            return Err(Error::Fetch { url: "test".into(), detail: "connection dropped".into() });
        }
        let mut piece = self.inner.next().await?;
        if let Some(p) = piece.as_mut() {
            p.truncate(self.left.min(p.len() as u64) as usize);
            self.left -= p.len() as u64;
        }
        Ok(piece)
    }
}

impl Fetcher for ConnectionDroppedAfter {
    type Stream = CutStream;
    async fn open(&self, file: &ManifestFile, from: u64) -> Result<CutStream> {
        Ok(CutStream { inner: self.inner.open(file, from).await?, left: self.limit })
    }
    fn describe(&self, file: &ManifestFile) -> String {
        self.inner.describe(file)
    }
}

#[test]
fn an_interrupted_download_resumes_at_the_last_whole_chunk() {
    let s = Scratch::new("resume");
    let size = 10u64 << 20;
    let m = s.model("a", size as usize, 4);
    let cache = s.cache(None);
    let cut = ConnectionDroppedAfter { inner: s.fetcher("a"), limit: 9 << 20 };
    let err = block_on(cache.load(&m, &["model.bin"], &cut, &[], &mut |_| {})).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("connection dropped"), "{err}");
    let partial = block_on(cache.store().file(&m.files[1].cid)).ok().flatten().unwrap_or_else(|| panic!("partial record kept"));
    assert!(!partial.complete);
    assert_eq!(partial.chunks_stored, 2, "two whole 4 MiB chunks of the 9 MiB that arrived");
    let resumed = block_on(cache.load(&m, &["model.bin"], &s.fetcher("a"), &[], &mut |_| {})).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resumed.origins["model.bin"], FileOrigin::Resumed);
    assert_eq!(resumed.network_bytes, size - 2 * CHUNK_BYTES);
    assert_eq!(Cid::of(&resumed.files["model.bin"]), m.files[1].cid);
}

#[test]
fn quota_pressure_evicts_the_least_recently_used_model_not_in_use() {
    let s = Scratch::new("lru");
    let (a, b, c) = (s.model("a", 3 << 20, 5), s.model("b", 3 << 20, 6), s.model("c", 3 << 20, 7));
    // Room for two of the three models.
    let cache = s.cache(Some(7 << 20));
    for m in [&a, &b] {
        load(&cache, m, &s.fetcher(&m.name), &[]).unwrap_or_else(|e| panic!("{e}"));
    }
    // Touch a: b is now the least recently used.
    std::thread::sleep(std::time::Duration::from_millis(5));
    load(&cache, &a, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    load(&cache, &c, &s.fetcher("c"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let names = |cache: &WeightCache<DirStore>| block_on(cache.list()).unwrap_or_default().into_iter().map(|m| m.name).collect::<Vec<_>>();
    assert_eq!(names(&cache), ["c", "a"]);
    let usage = block_on(cache.usage()).unwrap_or_else(|e| panic!("{e}"));
    assert!(usage.bytes <= 7 << 20, "{usage:?}");
    assert_eq!(usage.files, 4, "b's files were deleted with it");
    // A model in use is never evicted: with a in use, loading b evicts c.
    std::thread::sleep(std::time::Duration::from_millis(5));
    load(&cache, &c, &s.fetcher("c"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let loaded = load(&cache, &b, &s.fetcher("b"), &["a".to_string(), "c".to_string()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.origins["model.bin"], FileOrigin::Uncached);
    assert_eq!(names(&cache), ["c", "a"], "nothing evictable: b loaded without being stored");
}

#[test]
fn a_new_version_replaces_the_old_files_and_delete_clear_empty_the_store() {
    let s = Scratch::new("versions");
    let v1 = s.model("a", 1 << 20, 8);
    let cache = s.cache(None);
    load(&cache, &v1, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let v2 = s.model("a", 1 << 20, 9);
    assert_ne!(v1.version, v2.version);
    load(&cache, &v2, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let listed = block_on(cache.list()).unwrap_or_default();
    assert_eq!((listed.len(), listed[0].version.as_str()), (1, v2.version.as_str()));
    assert_eq!(block_on(cache.store().file(&v1.files[1].cid)).ok().flatten(), None, "v1's weights were collected");
    assert!(block_on(cache.delete("a")).unwrap_or(false));
    assert!(!block_on(cache.delete("a")).unwrap_or(true));
    assert_eq!(block_on(cache.usage()).map(|u| (u.bytes, u.files)).ok(), Some((0, 0)));
    load(&cache, &v2, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    block_on(cache.clear()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(block_on(cache.usage()).map(|u| (u.bytes, u.files, u.models)).ok(), Some((0, 0, 0)));
}

/// A manifest of one 10-byte file `w` with these slices.
fn slices(list: &str) -> String {
    let cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    let list = list.replace("CID", cid);
    format!(r#"{{"name":"m","version":"1","files":[{{"path":"w","cid":"{cid}","size":10}}],"slices":[{list}]}}"#)
}

#[test]
fn bad_manifests_are_named_errors() {
    for (text, want) in [
        ("{", "manifest.json"),
        (r#"{"name":"","version":"1","files":[]}"#, "\"name\" is empty"),
        (
            r#"{"name":"m","version":"1","files":[{"path":"../x","cid":"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku","size":0}]}"#,
            "relative and plain",
        ),
        (r#"{"name":"m","version":"1","files":[{"path":"x","cid":"Qm123","size":0}]}"#, "not a CIDv1"),
        (&slices(r#"{"file":"w","name":"t","cid":"CID","offset":8,"size":8}"#), "lies outside"),
        (&slices(r#"{"file":"v","name":"t","cid":"CID","offset":0,"size":1}"#), "unlisted file"),
        (
            &slices(r#"{"file":"w","name":"t","cid":"CID","offset":0,"size":1},{"file":"w","name":"t","cid":"CID","offset":1,"size":1}"#),
            "listed twice",
        ),
    ] {
        let err = ModelManifest::from_json(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn tensor_ids_are_remembered_only_for_verified_files_and_a_damaged_table_is_ignored() {
    let s = Scratch::new("tensor-ids");
    let m = s.model("a", 1 << 20, 10);
    let cache = s.cache(None);
    let weights = m.file("model.bin").unwrap_or_else(|e| panic!("{e}")).cid;
    let ids: std::collections::BTreeMap<String, Cid> = [("w".to_string(), Cid::of(b"w"))].into();
    // Not stored yet: nothing to attach the table to.
    block_on(cache.remember_tensor_ids(&weights, ids.clone())).unwrap_or_else(|e| panic!("{e}"));
    assert!(block_on(cache.tensor_ids(&weights)).unwrap_or_default().is_empty());
    load(&cache, &m, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    block_on(cache.remember_tensor_ids(&weights, ids.clone())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(block_on(cache.tensor_ids(&weights)).unwrap_or_default(), ids);
    // A table edited on disk no longer matches its checksum: ignored (recomputed by the loader).
    let record = s.0.join("store/files").join(format!("{weights}.json"));
    let text = std::fs::read_to_string(&record).unwrap_or_default();
    std::fs::write(&record, text.replace(&Cid::of(b"w").to_string(), &Cid::of(b"x").to_string())).ok();
    assert!(block_on(cache.tensor_ids(&weights)).unwrap_or_default().is_empty());
}

#[test]
fn files_without_a_manifest_are_pinned_on_first_use_and_verified_against_it_after() {
    let s = Scratch::new("first-use");
    let m = s.model("a", 1 << 20, 3);
    let cache = s.cache(None);
    let name = "http://models.example/a/";
    let read = |p: &str| std::fs::read(s.0.join("source/a").join(p)).unwrap_or_default();
    let files: std::collections::BTreeMap<String, Vec<u8>> = FILES.iter().map(|p| (p.to_string(), read(p))).collect();
    assert!(block_on(cache.pinned(name, &FILES)).unwrap_or_else(|e| panic!("{e}")).is_none());

    let (pinned, loaded) = block_on(cache.pin_first_use(name, files, &[], &mut |_| {})).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.files.len(), 2);
    for f in &pinned.files {
        assert_eq!(Some(f.cid), m.file(&f.path).ok().map(|g| g.cid), "{}: the id pinned is the file's own", f.path);
    }
    let again = block_on(cache.pinned(name, &FILES)).unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("pinned"));
    assert_eq!(again.files, pinned.files);
    assert!(block_on(cache.pinned(name, &["other.bin"])).unwrap_or_else(|e| panic!("{e}")).is_none());
    // A later load through the pinned ids reads the store, not the source.
    let later = load(&cache, &again, &s.fetcher("a"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(later.network_bytes, 0);
    // The file changed at its source since: with the store emptied, it fails against its pin.
    block_on(cache.clear()).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(s.0.join("source/a/model.bin"), vec![7u8; 1 << 20]).unwrap_or_default();
    let err = load(&cache, &again, &s.fetcher("a"), &[]).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("model.bin") && err.contains("does not match"), "{err}");
}
