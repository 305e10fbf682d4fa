//! all-MiniLM-L6-v2 loaded in parts the way shard stages load it: the manifest's slices of
//! model.safetensors read by byte range through the real weight cache (a directory store),
//! each verified against its CID. Each part holds only its layers — together exactly what the
//! whole model holds — and the parts run in sequence give the whole model's embeddings.

use ipfs_accelerate::models::bert::{Bert, BertConfig, LinearWeights, PartSlices};
use ipfs_accelerate::models::embedder::{EmbedderOptions, SentenceEmbedder};
use ipfs_accelerate::share::TensorRegistry;
use ipfs_accelerate::store::{slice_path, DirFetcher, DirStore, ModelManifest, SliceFetcher, WeightCache};
use ipfs_accelerate::weights::{Cid, SafeTensors};
use ipfs_accelerate::Device;
use pollster::block_on;
use std::ops::Range;
use std::sync::{Arc, Mutex};

const WEIGHTS: &str = "model.safetensors";

struct Parts {
    dir: std::path::PathBuf,
    manifest: ModelManifest,
    config: BertConfig,
    tokenizer: Vec<u8>,
    cache: WeightCache<DirStore>,
    scratch: std::path::PathBuf,
}

impl Parts {
    /// `label` keeps each test's store apart (tests of one binary share its pid).
    fn new(label: &str) -> Parts {
        let dir = ipfs_accelerate::weights::model_cache_dir().join("all-minilm-l6-v2");
        let manifest = ModelManifest::for_dir("minilm", &dir).unwrap_or_else(|e| panic!("{e}; run `cargo xtask setup`"));
        let config = BertConfig::from_json(&std::fs::read_to_string(dir.join("config.json")).unwrap_or_default()).unwrap();
        let tokenizer = std::fs::read(dir.join("tokenizer.json")).unwrap_or_default();
        let scratch = std::env::temp_dir().join(format!("ipfs-accelerate-bert-parts-{}-{label}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        let cache = WeightCache::new(DirStore::open(&scratch).unwrap(), None);
        Parts { dir, manifest, config, tokenizer, cache, scratch }
    }

    /// Fetch `layers`' slices of `manifest` through the cache: the bytes that came from the
    /// source, and the part built from them.
    fn load(&self, manifest: &ModelManifest, layers: Range<usize>) -> ipfs_accelerate::Result<(u64, SentenceEmbedder)> {
        let part = PartSlices::of(manifest, WEIGHTS, &self.config, &layers)?;
        let source = DirFetcher::new(&self.dir);
        let wanted = part.all();
        let (derived, fetcher) = SliceFetcher::over(&source, manifest, &wanted, format!("minilm {layers:?}"))?;
        let paths: Vec<String> = wanted.iter().map(|s| slice_path(s)).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        let mut loaded = block_on(self.cache.load(&derived, &paths, &fetcher, &[], &mut |_| {}))?;
        let (weights, ids) = part.weights(manifest, &mut loaded.files)?;
        let options = EmbedderOptions { max_tokens: Some(256), tensor_ids: Arc::new(Mutex::new(ids)), ..EmbedderOptions::default() };
        let embedder =
            block_on(SentenceEmbedder::from_source(self.config.clone(), &self.tokenizer, &weights, layers, &Device::Cpu, &options))?;
        Ok((loaded.network_bytes, embedder))
    }
}

impl Drop for Parts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

#[test]
fn parts_hold_only_their_layers_and_in_sequence_equal_the_whole_model() {
    let p = Parts::new("sequence");
    let whole = block_on(SentenceEmbedder::from_dir(
        &p.dir,
        WEIGHTS,
        &Device::Cpu,
        &EmbedderOptions { max_tokens: Some(256), ..EmbedderOptions::default() },
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let header = p.manifest.slices.iter().find(|s| s.name == "__header__").map(|s| s.size).unwrap_or_default();

    let (fetched_first, first) = p.load(&p.manifest, 0..3).unwrap_or_else(|e| panic!("{e}"));
    let (fetched_second, second) = p.load(&p.manifest, 3..6).unwrap_or_else(|e| panic!("{e}"));
    // Each part read only its tensors, and the header once: the second found it in the
    // store by its CID.
    for (layers, fetched, head) in [(0..3, fetched_first, header), (3..6, fetched_second, 0)] {
        let part = PartSlices::of(&p.manifest, WEIGHTS, &p.config, &layers).unwrap();
        assert_eq!(fetched, part.bytes + head, "layers {layers:?}");
    }
    let file_size = p.manifest.file(WEIGHTS).unwrap().size;
    assert!(fetched_second < file_size / 3, "the later part skips the embeddings: {fetched_second} of {file_size} bytes");
    // Held weights: the two parts together are exactly the whole model's.
    let held = |e: &SentenceEmbedder| e.weight_bytes().0;
    assert_eq!(held(&first) + held(&second), held(&whole));
    assert!(held(&second) < held(&first), "only the first part holds the embeddings");

    // In sequence, through bytes, the parts give the whole model's embeddings.
    let texts = ["Sharding a model over browsers.", "Each stage holds its own layers.", "A third, longer sentence to pad the batch."];
    let want = block_on(whole.embed(&texts)).unwrap();
    let x = block_on(first.model().embed_stage(&first.tokenize(&texts).unwrap())).unwrap();
    let x = block_on(first.model().layers_stage(&x, 0..3)).unwrap();
    let x = block_on(second.model().layers_stage(&x, 3..6)).unwrap();
    let got = second.model().pool_stage(&x, second.pooling());
    for (g, w) in got.iter().zip(&want) {
        let worst = g.iter().zip(w).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "parts differ from the whole by {worst}");
    }

    // A part refuses what it does not hold.
    let err = block_on(second.embed(&texts)).unwrap_err().to_string();
    assert!(err.contains("layers 3..6"), "{err}");
    assert!(block_on(second.model().embed_stage(&second.tokenize(&texts).unwrap())).is_err(), "no embeddings in a later part");
    assert!(block_on(first.model().layers_stage(&x, 3..6)).is_err(), "layers the first part does not hold");

    // Loaded again: every slice from the cache.
    let (again, _) = p.load(&p.manifest, 3..6).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, 0, "the second load came from the store");

    // A slice whose CID does not match its bytes is refused.
    let mut forged = p.manifest.clone();
    let victim = forged.slices.iter().position(|s| s.name == "encoder.layer.4.output.dense.weight").unwrap();
    forged.slices[victim].cid = Cid::of(b"something else");
    let err = p.load(&forged, 3..6).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("encoder.layer.4.output.dense.weight"), "{err}");
}

#[test]
fn a_part_outside_the_model_is_refused_and_a_manifest_without_slices_says_what_to_do() {
    let p = Parts::new("refused");
    let bytes = std::fs::read(p.dir.join(WEIGHTS)).unwrap();
    let st = SafeTensors::parse(&bytes).unwrap();
    let load = |layers: Range<usize>| {
        block_on(Bert::load_part(
            p.config.clone(),
            &st,
            &Device::Cpu,
            &TensorRegistry::new(),
            Default::default(),
            LinearWeights::AsStored,
            layers,
        ))
    };
    for bad in [2..9, Range { start: 4, end: 3 }] {
        let err = load(bad.clone()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&format!("{bad:?}")), "{err}");
    }
    assert_eq!(load(5..6).map(|m| m.held_layers()).ok(), Some(5..6));
    let old = ModelManifest { slices: Vec::new(), ..p.manifest.clone() };
    let err = PartSlices::of(&old, WEIGHTS, &p.config, &(0..3)).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("accelerate manifest"), "{err}");
}
