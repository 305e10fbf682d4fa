//! A model manifest: its name and version, each file's path, CID and size, and for
//! safetensors files each tensor's byte range and CID (so a part of a model — a shard stage's
//! layers — can be fetched, verified and cached alone).

use crate::core::error::{Error, Result};
use crate::weights::Cid;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub cid: Cid,
    pub size: u64,
}

/// A byte range of one file with its own CID: a tensor, or the file's header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestSlice {
    pub file: String,
    /// The tensor's name, or [`HEADER_SLICE`].
    pub name: String,
    pub cid: Cid,
    pub offset: u64,
    pub size: u64,
}

/// The slice name of a safetensors file's header (its length and table); the safetensors
/// format reserves `__`-names, so no tensor has it.
pub const HEADER_SLICE: &str = "__header__";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    pub name: String,
    pub version: String,
    pub files: Vec<ManifestFile>,
    /// Tensors (and headers) of the files that have them; older manifests have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<ManifestSlice>,
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
        let mut seen = std::collections::BTreeSet::new();
        for s in &m.slices {
            let file =
                m.file(&s.file).map_err(|_| Error::Model(format!("manifest.json: slice {:?} of unlisted file {:?}", s.name, s.file)))?;
            if s.offset.checked_add(s.size).is_none_or(|end| end > file.size) {
                return Err(Error::Model(format!(
                    "manifest.json: slice {:?} ({} bytes at {}) lies outside {:?} ({} bytes)",
                    s.name, s.size, s.offset, s.file, file.size
                )));
            }
            if !seen.insert((s.file.as_str(), s.name.as_str())) {
                return Err(Error::Model(format!("manifest.json: slice {:?} of {:?} is listed twice", s.name, s.file)));
            }
        }
        Ok(m)
    }

    /// The manifest a server answered for `url`. What is not one is an error naming the URL
    /// and the content type, and — for a web page, which many dev servers send (status 200)
    /// for a file they do not have — what to check.
    pub fn from_response(url: &str, bytes: &[u8], content_type: Option<&str>) -> Result<ModelManifest> {
        let kind = content_type.unwrap_or("none");
        let not_manifest = |why: String| {
            let page = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') || kind.starts_with("text/html");
            let hint = if page {
                " — the server answered with a web page (dev servers often answer a missing file with index.html): is the model really at this URL?"
            } else {
                ""
            };
            Error::Model(format!("{url} is not a model manifest (HTTP 200, content-type {kind}): {why}{hint}"))
        };
        let text = std::str::from_utf8(bytes).map_err(|_| not_manifest("not UTF-8 text".into()))?;
        ModelManifest::from_json(text).map_err(|e| not_manifest(e.to_string()))
    }

    /// A version derived from the files' ids, so it changes whenever any file does.
    pub fn version_of(files: &[ManifestFile]) -> String {
        let ids: String = files.iter().map(|f| f.cid.to_string()).collect();
        let id = Cid::of(ids.as_bytes()).to_string();
        // The tail: every id starts with the same "bafkrei" prefix.
        id[id.len().saturating_sub(12)..].to_string()
    }

    /// The slice `name` (a tensor, or [`HEADER_SLICE`]) of `file`.
    pub fn slice(&self, file: &str, name: &str) -> Result<&ManifestSlice> {
        self.slices.iter().find(|s| s.file == file && s.name == name).ok_or_else(|| {
            Error::Model(format!(
                "manifest of {} lists no slice {name:?} of {file:?} (made before slices? run `accelerate manifest` again)",
                self.name
            ))
        })
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
        let (mut files, mut slices) = (Vec::new(), Vec::new());
        for p in paths {
            let Some(name) = p.file_name().and_then(|n| n.to_str()).filter(|n| !n.starts_with('.') && *n != "manifest.json") else {
                continue;
            };
            let bytes = std::fs::read(&p).map_err(io)?;
            if name.ends_with(".safetensors") {
                slices.extend(Self::safetensors_slices(name, &bytes)?);
            }
            files.push(ManifestFile { path: name.to_string(), cid: Cid::of(&bytes), size: bytes.len() as u64 });
        }
        let version = Self::version_of(&files);
        Ok(ModelManifest { name: name.to_string(), version, files, slices })
    }

    /// The header and every tensor of the safetensors file `bytes`, each with its CID.
    #[cfg(not(target_arch = "wasm32"))]
    fn safetensors_slices(file: &str, bytes: &[u8]) -> Result<Vec<ManifestSlice>> {
        let st = crate::weights::SafeTensors::parse(bytes).map_err(|e| Error::Model(format!("{file}: {e}")))?;
        let slice = |name: &str, from: usize, to: usize| ManifestSlice {
            file: file.to_string(),
            name: name.to_string(),
            cid: Cid::of(&bytes[from..to]),
            offset: from as u64,
            size: (to - from) as u64,
        };
        let base = st.data_offset();
        let mut out = vec![slice(HEADER_SLICE, 0, base)];
        for name in st.names() {
            if let Some(info) = st.info(name) {
                out.push(slice(name, base + info.start, base + info.end));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::ModelManifest;

    #[test]
    fn a_web_page_instead_of_a_manifest_names_the_url_the_type_and_what_to_check() {
        let page = b"  <!doctype html><html><body>app</body></html>";
        let err = ModelManifest::from_response("http://localhost:5173/m/manifest.json", page, Some("text/html")).unwrap_err().to_string();
        assert!(err.contains("http://localhost:5173/m/manifest.json") && err.contains("text/html") && err.contains("index.html"), "{err}");
        let err = ModelManifest::from_response("u", b"{\"name\": 3}", Some("application/json")).unwrap_err().to_string();
        assert!(err.contains("application/json") && !err.contains("index.html"), "{err}");
        let ok = br#"{"name":"m","version":"1","files":[]}"#;
        assert_eq!(ModelManifest::from_response("u", ok, None).map(|m| m.name).ok().as_deref(), Some("m"));
    }
}
