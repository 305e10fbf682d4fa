//! What the package costs a visitor to download: each wasm build's size raw and gzipped (as a
//! server compressing it would send it).

use crate::error::Context;
use crate::Result;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::path::Path;

/// The npm package's wasm builds (npm/<dir>/ipfs_accelerate_bg.wasm), as xtask/src/wasm.rs makes them.
const BUILDS: [&str; 4] = ["pkg", "pkg-relaxed", "pkg-threads", "pkg-threads-relaxed"];

#[derive(Debug, serde::Serialize)]
pub struct BuildSize {
    pub build: &'static str,
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
}

/// Sizes of every build present under `npm_dir`.
pub fn wasm_build_sizes(npm_dir: &Path) -> Result<Vec<BuildSize>> {
    let mut sizes = Vec::new();
    for build in BUILDS {
        let path = npm_dir.join(build).join("ipfs_accelerate_bg.wasm");
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
        gzip.write_all(&bytes).context(format!("compressing {}", path.display()))?;
        let compressed = gzip.finish().context(format!("compressing {}", path.display()))?;
        sizes.push(BuildSize { build, raw_bytes: bytes.len() as u64, gzip_bytes: compressed.len() as u64 });
    }
    Ok(sizes)
}
