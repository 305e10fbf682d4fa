//! Model manifests for the served model directories (file CIDs, hashed once and kept until a
//! file changes), and the local IPFS-gateway view of the same files (`/ipfs/<cid>`).

use ipfs_accelerate::store::ModelManifest;
use ipfs_accelerate::weights::Cid;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// What a directory held when its manifest was made: (name, size, modified) per file.
type Signature = Vec<(String, u64, Option<SystemTime>)>;

#[derive(Default)]
pub(super) struct Manifests {
    known: Mutex<HashMap<PathBuf, (Signature, Arc<ModelManifest>)>>,
}

fn signature(dir: &Path) -> Signature {
    let mut files: Signature = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let meta = std::fs::metadata(e.path()).ok().filter(|m| m.is_file())?;
                    Some((e.file_name().to_string_lossy().into_owned(), meta.len(), meta.modified().ok()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

impl Manifests {
    /// The manifest of model directory `dir` named `name`: its own manifest.json if it has
    /// one, else made by hashing its files.
    pub(super) async fn of(&self, name: &str, dir: &Path) -> Result<Arc<ModelManifest>, String> {
        if !dir.is_dir() {
            return Err(format!("no model {name}"));
        }
        let own = dir.join("manifest.json");
        if own.is_file() {
            let text = tokio::fs::read_to_string(&own).await.map_err(|e| e.to_string())?;
            return ModelManifest::from_json(&text).map(Arc::new).map_err(|e| e.to_string());
        }
        let sig = signature(dir);
        if let Some((known_sig, m)) = self.lock().get(dir) {
            if *known_sig == sig {
                return Ok(m.clone());
            }
        }
        let (name, path) = (name.to_string(), dir.to_path_buf());
        let manifest = tokio::task::spawn_blocking(move || ModelManifest::for_dir(&name, &path))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let manifest = Arc::new(manifest);
        self.lock().insert(dir.to_path_buf(), (sig, manifest.clone()));
        Ok(manifest)
    }

    /// The file with content id `cid` in any model directory under `root`.
    pub(super) async fn find(&self, root: &Path, cid: &Cid) -> Option<PathBuf> {
        // Model directories only (they have a config.json), not e.g. the wheel download folder.
        let mut dirs: Vec<PathBuf> =
            std::fs::read_dir(root).ok()?.flatten().map(|e| e.path()).filter(|p| p.join("config.json").is_file()).collect();
        dirs.sort();
        for dir in dirs {
            let name = dir.file_name()?.to_string_lossy().into_owned();
            if let Ok(m) = self.of(&name, &dir).await {
                if let Some(f) = m.files.iter().find(|f| f.cid == *cid) {
                    return Some(dir.join(&f.path));
                }
            }
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, (Signature, Arc<ModelManifest>)>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}
