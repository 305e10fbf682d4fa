//! The shared-tensor registry. A key names a tensor by what it is (the CID of its f32 data,
//! its shape, how it was prepared) and where it lives (device), so two models whose files
//! contain the same tensor get the same memory, whatever the tensor is called in each.

use crate::device::Device;
use crate::tensor::Tensor;
use crate::weights::Cid;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// How a stored tensor was derived from the file's tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    AsIs,
    /// A 2-D weight stored transposed ([in, out]) for `x · W`.
    Transposed,
    /// Transposed as `Transposed`, as int8 matmul panels (CPU only).
    Int8Transposed,
    /// Only row 0 kept (e.g. token-type embeddings of single-segment input).
    FirstRow,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TensorKey {
    pub content: Cid,
    pub shape: Vec<usize>,
    pub transform: Transform,
    /// Device identity: "cpu", or the GPU context's address (one per opened device).
    pub device: String,
}

impl TensorKey {
    pub fn new(data: &[f32], shape: &[usize], transform: Transform, device: &Device) -> TensorKey {
        TensorKey::with_content(Cid::of(bytemuck::cast_slice(data)), shape, transform, device)
    }

    pub fn with_content(content: Cid, shape: &[usize], transform: Transform, device: &Device) -> TensorKey {
        TensorKey { content, shape: shape.to_vec(), transform, device: device_id(device) }
    }
}

fn device_id(device: &Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Gpu(ctx) => format!("gpu@{:p}", Arc::as_ptr(ctx)),
        #[cfg(target_arch = "wasm32")]
        Device::WebNn(ctx) => format!("webnn@{:p}", Arc::as_ptr(ctx)),
    }
}

/// What a device kind is called in reports ("cpu" / "gpu").
fn device_kind(key: &TensorKey) -> &'static str {
    match key.device.split('@').next() {
        Some("cpu") => "cpu",
        Some("webnn") => "webnn",
        _ => "gpu",
    }
}

/// Bytes a tensor keeps alive: its storage, plus its cached matmul packing on the CPU.
fn resident_bytes(t: &Tensor) -> u64 {
    t.storage().bytes()
}

struct Entry {
    tensor: Tensor,
    holders: usize,
}

#[derive(Default)]
pub struct TensorRegistry {
    entries: Mutex<HashMap<TensorKey, Entry>>,
}

/// Bytes per device kind, each shared tensor counted once.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeviceBytes {
    pub by_device: BTreeMap<String, u64>,
    pub tensors: usize,
    /// Bytes of tensors that more than one model holds.
    pub shared_bytes: u64,
}

impl TensorRegistry {
    pub fn new() -> Arc<TensorRegistry> {
        Arc::new(TensorRegistry::default())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TensorKey, Entry>> {
        // Entries stay consistent even if a holder panicked: keep going.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claim the tensor under `key` if it is held already.
    fn claim(&self, key: &TensorKey) -> Option<Tensor> {
        let mut entries = self.lock();
        let e = entries.get_mut(key)?;
        e.holders += 1;
        Some(e.tensor.clone())
    }

    /// Hold `tensor` under `key` (if another load stored it meanwhile, claim that one).
    fn insert(&self, key: TensorKey, tensor: Tensor) -> Tensor {
        let mut entries = self.lock();
        let e = entries.entry(key).or_insert(Entry { tensor, holders: 0 });
        e.holders += 1;
        e.tensor.clone()
    }

    fn release(&self, keys: &[TensorKey]) {
        let mut entries = self.lock();
        for k in keys {
            if let Some(e) = entries.get_mut(k) {
                e.holders -= 1;
                if e.holders == 0 {
                    entries.remove(k);
                }
            }
        }
    }

    pub fn usage(&self) -> DeviceBytes {
        let entries = self.lock();
        let mut out = DeviceBytes { tensors: entries.len(), ..DeviceBytes::default() };
        for (k, e) in entries.iter() {
            let bytes = resident_bytes(&e.tensor);
            *out.by_device.entry(device_kind(k).to_string()).or_default() += bytes;
            if e.holders > 1 {
                out.shared_bytes += bytes;
            }
        }
        out
    }

    /// (bytes, of which shared with another holder) of the tensors under `keys`.
    fn bytes_of(&self, keys: &[TensorKey]) -> (u64, u64) {
        let entries = self.lock();
        keys.iter().filter_map(|k| entries.get(k)).fold((0, 0), |(all, shared), e| {
            let b = resident_bytes(&e.tensor);
            (all + b, shared + if e.holders > 1 { b } else { 0 })
        })
    }
}

/// Content ids of a weight file's tensors by name: filled in as a model loads, and reusable
/// for later loads of the same (verified) file, which then skip hashing each tensor.
pub type TensorIds = Arc<Mutex<BTreeMap<String, Cid>>>;

/// One model's claims on the registry, released when the model is dropped.
pub struct ModelTensors {
    registry: Arc<TensorRegistry>,
    keys: Mutex<Vec<TensorKey>>,
    ids: TensorIds,
}

impl ModelTensors {
    pub fn new(registry: Arc<TensorRegistry>, ids: TensorIds) -> ModelTensors {
        ModelTensors { registry, keys: Mutex::new(Vec::new()), ids }
    }

    /// The content id of the file's tensor `name` with f32 data `data`: remembered, or hashed.
    pub fn content_id(&self, name: &str, data: &[f32]) -> Cid {
        let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        *ids.entry(name.to_string()).or_insert_with(|| Cid::of(bytemuck::cast_slice(data)))
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, Vec<TensorKey>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shared tensor under `key`, built with `build` only if no model holds it yet.
    pub async fn get_or_build<F, Fut>(&self, key: TensorKey, build: F) -> crate::Result<Tensor>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = crate::Result<Tensor>>,
    {
        let tensor = match self.registry.claim(&key) {
            Some(t) => t,
            None => self.registry.insert(key.clone(), build().await?),
        };
        self.keys().push(key);
        Ok(tensor)
    }

    /// (bytes, of which shared) this model holds.
    pub fn bytes(&self) -> (u64, u64) {
        self.registry.bytes_of(&self.keys())
    }
}

impl Drop for ModelTensors {
    fn drop(&mut self) {
        let keys = std::mem::take(&mut *self.keys());
        self.registry.release(&keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_content_is_held_once_and_freed_with_its_last_holder() {
        let registry = TensorRegistry::new();
        let data: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let key = TensorKey::new(&data, &[10, 100], Transform::AsIs, &Device::Cpu);
        let build = || async { Tensor::from_vec(data.clone(), [10, 100]) };
        let (a, b) = (ModelTensors::new(registry.clone(), TensorIds::default()), ModelTensors::new(registry.clone(), TensorIds::default()));
        let ta = pollster::block_on(a.get_or_build(key.clone(), build)).unwrap_or_else(|e| panic!("{e}"));
        let tb = pollster::block_on(b.get_or_build(key.clone(), || async { panic!("must reuse, not rebuild") }))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(std::ptr::eq(ta.storage(), tb.storage()));
        assert_eq!(registry.usage().by_device.get("cpu"), Some(&4000));
        assert_eq!((a.bytes(), registry.usage().shared_bytes), ((4000, 4000), 4000));
        drop(a);
        assert_eq!(registry.usage().tensors, 1);
        assert_eq!(b.bytes(), (4000, 0));
        drop(b);
        assert_eq!(registry.usage().tensors, 0);
        // Other content, shape or preparation is another tensor.
        let other = TensorKey::new(&data, &[100, 10], Transform::AsIs, &Device::Cpu);
        assert_ne!(key, other);
        assert_ne!(key, TensorKey { transform: Transform::Transposed, ..key.clone() });
    }
}
