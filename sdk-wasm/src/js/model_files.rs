//! A model's files in the page: its manifest (`<url>/manifest.json`, or given inline), then
//! each wanted file by CID through the weight cache. A URL without a manifest is trusted on
//! first use: its files' ids are computed on the first download, cached, and verified against
//! on later loads (the load report and a console warning say so). Shared by every model kind.

use super::weight_cache::{with_cache, Cache};
use crate::core::error::{Error, Result};
use crate::store::{
    fetch_all, fetch_all_typed, Fetcher, FileOrigin, HttpFetcher, LoadPhase, LoadProgress, LoadReport, ModelManifest, Trust,
};
use crate::weights::Cid;
use std::collections::BTreeMap;
use wasm_bindgen::JsValue;

pub(super) struct ModelFiles {
    pub files: BTreeMap<String, Vec<u8>>,
    pub name: String,
    /// The start of the model's `loadReport`; the loader adds what building it took.
    pub report: LoadReport,
    /// CID of each file, when a manifest verified them.
    pub cids: BTreeMap<String, Cid>,
}

/// Where to look and what to fetch.
pub(super) struct FileRequest<'a> {
    pub base: &'a str,
    pub manifest: Option<ModelManifest>,
    pub gateway: Option<String>,
    pub on_progress: Option<&'a js_sys::Function>,
    pub signal: Option<web_sys::AbortSignal>,
}

/// Load options as JSON text (`{}` when none were given).
pub(super) fn options_json(value: &JsValue) -> String {
    if value.is_undefined() || value.is_null() {
        return "{}".to_string();
    }
    js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "{}".into())
}

/// `base` with exactly one trailing slash.
pub(super) fn base_url(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

impl FileRequest<'_> {
    /// The manifest given, or the one at `<base>manifest.json` (None when the server has none).
    pub async fn manifest(&self) -> Result<Option<ModelManifest>> {
        match &self.manifest {
            Some(m) => Ok(Some(m.clone())),
            None => fetch_manifest(self.base, self.signal.as_ref()).await,
        }
    }

    /// Fetch `paths` (checked against `manifest` when there is one).
    pub async fn fetch(&self, manifest: Option<ModelManifest>, paths: &[&str], cache: &Cache, in_use: &[String]) -> Result<ModelFiles> {
        match manifest {
            Some(m) => {
                for p in paths {
                    if m.file(p).is_err() {
                        let listed: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
                        return Err(Error::Model(format!("model {} has no file {p:?} (its manifest lists {})", m.name, listed.join(", "))));
                    }
                }
                self.fetch_verified(&m, paths, &self.http(), cache, in_use).await
            }
            None => self.fetch_first_use(paths, cache, in_use).await,
        }
    }

    /// A URL without a manifest, trusted on first use: the first load downloads the files,
    /// computes their ids and caches them under the URL (with a console warning); later loads
    /// read them from the cache, or download them again, verified against those ids.
    async fn fetch_first_use(&self, paths: &[&str], cache: &Cache, in_use: &[String]) -> Result<ModelFiles> {
        if let Some(pinned) = with_cache!(cache, c => c.pinned(self.base, paths).await?) {
            let mut files = self.fetch_verified(&pinned, paths, &self.http(), cache, in_use).await?;
            files.report.trust = Trust::FirstUse;
            return Ok(files);
        }
        let mut files = BTreeMap::new();
        let mut network = 0;
        for p in paths {
            let bytes = fetch_all(&format!("{}{p}", self.base), self.signal.as_ref()).await?;
            network += bytes.len() as u64;
            let size = bytes.len() as u64;
            self.report_progress(LoadProgress {
                file: p.to_string(),
                loaded: size,
                total: size,
                origin: FileOrigin::Network,
                phase: LoadPhase::Download,
            });
            files.insert(p.to_string(), bytes);
        }
        let (pinned, loaded) = with_cache!(cache, c => c.pin_first_use(self.base, files, in_use, &mut |_| {}).await?);
        web_sys::console::warn_1(
            &format!(
                "ipfs-accelerate: {} has no manifest.json: its files were trusted on this first download and will be verified \
                 against the ids computed now (write a manifest with `npx ipfs-accelerate manifest DIR`)",
                self.base
            )
            .into(),
        );
        let origins = paths.iter().map(|p| (p.to_string(), FileOrigin::Network)).collect();
        let report = LoadReport { store_error: loaded.store_error, ..LoadReport::first_use(origins, network, &pinned.version) };
        let cids = pinned.files.iter().map(|f| (f.path.clone(), f.cid)).collect();
        Ok(ModelFiles { files: loaded.files, name: self.base.to_string(), report, cids })
    }

    /// The fetcher for this request's files (by path, or by CID through the gateway).
    pub fn http(&self) -> HttpFetcher {
        HttpFetcher { base: self.base.to_string(), gateway: self.gateway.clone(), signal: self.signal.clone() }
    }

    /// `paths` of manifest `m` through the weight cache, each verified against its CID.
    pub async fn fetch_verified<F: Fetcher>(
        &self,
        m: &ModelManifest,
        paths: &[&str],
        fetcher: &F,
        cache: &Cache,
        in_use: &[String],
    ) -> Result<ModelFiles> {
        let mut progress = |p: LoadProgress| self.report_progress(p);
        let loaded = with_cache!(cache, c => c.load(m, paths, fetcher, in_use, &mut progress).await?);
        let report = LoadReport::verified(&loaded, Trust::Manifest, &m.version);
        let cids = paths.iter().map(|p| Ok((p.to_string(), m.file(p)?.cid))).collect::<Result<_>>()?;
        Ok(ModelFiles { files: loaded.files, name: m.name.clone(), report, cids })
    }

    fn report_progress(&self, p: LoadProgress) {
        if let (Some(f), Ok(text)) = (self.on_progress, serde_json::to_string(&p)) {
            if let Ok(value) = js_sys::JSON::parse(&text) {
                // A throwing callback must not break the load.
                let _ = f.call1(&JsValue::NULL, &value);
            }
        }
    }
}

impl ModelFiles {
    pub fn take(&mut self, path: &str) -> Result<Vec<u8>> {
        self.files.remove(path).ok_or_else(|| Error::Model(format!("{path} was not loaded")))
    }
}

/// `<base>manifest.json`, or None when the server has none (HTTP 404).
async fn fetch_manifest(base: &str, signal: Option<&web_sys::AbortSignal>) -> Result<Option<ModelManifest>> {
    let url = format!("{base}manifest.json");
    match fetch_all_typed(&url, signal).await {
        Ok((bytes, content_type)) => ModelManifest::from_response(&url, &bytes, content_type.as_deref()).map(Some),
        Err(Error::Fetch { detail, .. }) if detail.starts_with("HTTP 404") => Ok(None),
        Err(e) => Err(e),
    }
}
