//! A model manifest: its name and version, and each file's path, CID and size.

use crate::core::error::{Error, Result};
use crate::weights::Cid;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub cid: Cid,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    pub name: String,
    pub version: String,
    pub files: Vec<ManifestFile>,
}

impl ModelManifest {
    /// Parse and check: a name, plain relative paths, each listed once.
    pub fn from_json(text: &str) -> Result<ModelManifest> {
        let m: ModelManifest = serde_json::from_str(text).map_err(|e| Error::Model(format!("manifest.json: {e}")))?;
        if m.name.is_empty() {
            return Err(Error::Model("manifest.json: \"name\" is empty".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for f in &m.files {
            if f.path.is_empty() || f.path.starts_with('/') || f.path.split('/').any(|s| s == ".." || s.is_empty()) {
                return Err(Error::Model(format!("manifest.json: file path {:?} must be relative and plain", f.path)));
            }
            if !seen.insert(f.path.as_str()) {
                return Err(Error::Model(format!("manifest.json: {:?} is listed twice", f.path)));
            }
        }
        Ok(m)
    }

    pub fn file(&self, path: &str) -> Result<&ManifestFile> {
        self.files.iter().find(|f| f.path == path).ok_or_else(|| Error::Model(format!("manifest of {} lists no {path:?}", self.name)))
    }

    /// Read `file` from `dir` natively, verified against `dir/manifest.json` when the directory
    /// has one (as the browser verifies every file): size and content id must match, else an
    /// error naming the file. Without a manifest the bytes are returned as read.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_verified(dir: &std::path::Path, file: &str) -> Result<Vec<u8>> {
        let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| Error::Model(format!("reading {}: {e}", p.display())));
        let bytes = read(&dir.join(file))?;
        let manifest_path = dir.join("manifest.json");
        if !manifest_path.exists() {
            return Ok(bytes);
        }
        let text =
            String::from_utf8(read(&manifest_path)?).map_err(|_| Error::Model(format!("{} is not UTF-8", manifest_path.display())))?;
        let entry = ModelManifest::from_json(&text)?.file(file)?.clone();
        if entry.size != bytes.len() as u64 || Cid::of(&bytes) != entry.cid {
            return Err(Error::Model(format!(
                "{file}: content does not match its id in {} (the file is damaged or was replaced)",
                manifest_path.display()
            )));
        }
        Ok(bytes)
    }

    /// The manifest of every regular top-level file in `dir` (hashing each one; hidden files
    /// and a manifest.json itself excluded). The version is derived from the files' ids, so it
    /// changes whenever any file does.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn for_dir(name: &str, dir: &std::path::Path) -> Result<ModelManifest> {
        let io = |e: std::io::Error| Error::Model(format!("reading {}: {e}", dir.display()));
        let mut paths: Vec<std::path::PathBuf> =
            std::fs::read_dir(dir).map_err(io)?.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        paths.sort();
        let mut files = Vec::new();
        for p in paths {
            let Some(name) = p.file_name().and_then(|n| n.to_str()).filter(|n| !n.starts_with('.') && *n != "manifest.json") else {
                continue;
            };
            let bytes = std::fs::read(&p).map_err(io)?;
            files.push(ManifestFile { path: name.to_string(), cid: Cid::of(&bytes), size: bytes.len() as u64 });
        }
        let ids: String = files.iter().map(|f| f.cid.to_string()).collect();
        let id = Cid::of(ids.as_bytes()).to_string();
        // The tail: every id starts with the same "bafkrei" prefix.
        let version = id[id.len() - 12..].to_string();
        Ok(ModelManifest { name: name.to_string(), version, files })
    }
}
