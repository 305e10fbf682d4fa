//! Weights by content: a model manifest names each file by its CID; files are fetched in
//! chunks into a store (IndexedDB in the browser, a directory natively), verified against
//! their CID before use, resumed after an interruption, and evicted least-recently-used.

mod blob_store;
mod cache;
mod chunk_sums;
#[cfg(not(target_arch = "wasm32"))]
mod dir_store;
mod fetch;
#[cfg(target_arch = "wasm32")]
mod http_fetch;
#[cfg(target_arch = "wasm32")]
mod idb;
#[cfg(target_arch = "wasm32")]
mod idb_store;
mod load_report;
mod manifest;
mod no_store;
mod slice_fetch;

pub use blob_store::{BlobStore, FileRecord, ModelRecord, Quota, CHUNK_BYTES};
pub use cache::{CacheUsage, FileOrigin, LoadPhase, LoadProgress, LoadTimings, LoadedModel, StoredCheck, WeightCache};
#[cfg(not(target_arch = "wasm32"))]
pub use dir_store::DirStore;
pub use fetch::{ByteStream, Fetcher, MemoryFetcher, MemoryStream};
#[cfg(not(target_arch = "wasm32"))]
pub use fetch::{DirFetcher, DirStream};
#[cfg(target_arch = "wasm32")]
pub use http_fetch::{fetch_all, fetch_all_typed, HttpFetcher};
#[cfg(target_arch = "wasm32")]
pub use idb_store::IdbStore;
pub use load_report::{LoadReport, PartLoadReport, Trust};
pub use manifest::{ManifestFile, ManifestSlice, ModelManifest, HEADER_SLICE};
pub use no_store::NoStore;
pub use slice_fetch::{slice_path, SliceFetcher, SliceStream};

/// Wall-clock milliseconds since the Unix epoch (for last-used times that survive reloads).
pub fn wall_clock_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
    }
}
