//! What the package costs a visitor to download: each wasm build's size raw and gzipped (as a
//! server compressing it would send it).

use crate::error::Context;
use crate::server::OTHER_BUILDS;
use crate::Result;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;

#[derive(Debug, serde::Serialize)]
pub struct BuildSize {
    pub build: &'static str,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
}

/// Sizes of every build present under `npm_dir`.
pub fn wasm_build_sizes(npm_dir: &Path) -> Result<Vec<BuildSize>> {
    let mut sizes = Vec::new();
    // The one-thread SIMD build (npm/pkg) and the others beside it, as the server serves them.
    for build in std::iter::once("pkg").chain(OTHER_BUILDS) {
        let path = npm_dir.join(build).join("ipfs_accelerate_bg.wasm");
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
        gzip.write_all(&bytes).context(format!("compressing {}", path.display()))?;
        let compressed = gzip.finish().context(format!("compressing {}", path.display()))?;
        sizes.push(BuildSize { build, raw_bytes: bytes.len() as u64, gzip_bytes: compressed.len() as u64 });
    }
    Ok(sizes)
}
