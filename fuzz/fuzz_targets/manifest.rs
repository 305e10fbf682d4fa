//! A model's `manifest.json` (paths, content ids, sizes) and content ids on their own.
#![no_main]
use ipfs_accelerate::store::ModelManifest;
use ipfs_accelerate::weights::Cid;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(m) = ModelManifest::from_json(text) {
            for f in &m.files {
                let _ = m.file(&f.path);
            }
        }
        let _ = Cid::parse(text);
    }
});
