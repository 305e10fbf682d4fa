//! The browser store: IndexedDB. Object stores `files` (CID → JSON record), `chunks`
//! ("<cid>/<index>" → Blob, at most CHUNK_BYTES each) and `models` (name → JSON record). A
//! chunk and its file record are written in one transaction.
//!
//! Chunks are Blobs: Chromium reads a stored Blob back about twice as fast as the same bytes
//! stored as a Uint8Array (90 MB in 4 MB chunks: ~90 ms against ~190 ms), since a typed array
//! is unwrapped from its stored copy by structured clone. Stores written before hold
//! Uint8Arrays, which still read.

use super::blob_store::{BlobStore, FileRecord, ModelRecord, Quota};
use super::idb::{committed, settled, store, thrown, Connection};
use crate::core::error::{Error, Result};
use crate::weights::Cid;
use futures_util::future::join_all;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransactionMode::{Readonly, Readwrite};

const DB_VERSION: u32 = 1;
const FILES: &str = "files";
const CHUNKS: &str = "chunks";
const MODELS: &str = "models";

pub struct IdbStore {
    db: Connection,
}

fn chunk_key(cid: &Cid, index: u32) -> JsValue {
    // Zero-padded so a file's chunks sort together and in order.
    JsValue::from_str(&format!("{cid}/{index:08}"))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<JsValue> {
    serde_json::to_string(value).map(|s| JsValue::from_str(&s)).map_err(|e| Error::Store(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(value: &JsValue, what: &str) -> Result<T> {
    let text = value.as_string().ok_or_else(|| Error::Store(format!("{what}: stored value is not a string")))?;
    serde_json::from_str(&text).map_err(|e| Error::Store(format!("{what}: {e}")))
}

impl IdbStore {
    /// Open (creating on first use) the database `name`.
    pub async fn open(name: &str) -> Result<IdbStore> {
        Ok(IdbStore { db: Connection::open(name, DB_VERSION, &[FILES, CHUNKS, MODELS]).await? })
    }

    async fn get_all<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        let tx = self.db.transaction(&[name], Readonly).await?;
        let request = store(&tx, name)?.get_all().map_err(|e| thrown(name, e))?;
        let values: js_sys::Array = settled(&request, name).await?.unchecked_into();
        values.iter().map(|v| from_json(&v, name)).collect()
    }

    async fn put_one(&self, name: &str, key: JsValue, value: JsValue) -> Result<()> {
        let tx = self.db.transaction(&[name], Readwrite).await?;
        store(&tx, name)?.put_with_key(&value, &key).map_err(|e| thrown(name, e))?;
        committed(&tx, name).await
    }
}

impl BlobStore for IdbStore {
    async fn file(&self, cid: &Cid) -> Result<Option<FileRecord>> {
        let tx = self.db.transaction(&[FILES], Readonly).await?;
        let request = store(&tx, FILES)?.get(&JsValue::from_str(&cid.to_string())).map_err(|e| thrown(FILES, e))?;
        let value = settled(&request, FILES).await?;
        (!value.is_undefined()).then(|| from_json(&value, FILES)).transpose()
    }

    async fn files(&self) -> Result<Vec<FileRecord>> {
        self.get_all(FILES).await
    }

    async fn put_chunk(&self, record: &FileRecord, index: u32, bytes: &[u8]) -> Result<()> {
        let chunk: JsValue = chunk_blob(bytes)?.into();
        let (record_json, cid) = (to_json(record)?, JsValue::from_str(&record.cid.to_string()));
        let tx = self.db.transaction(&[FILES, CHUNKS], Readwrite).await?;
        store(&tx, CHUNKS)?.put_with_key(&chunk, &chunk_key(&record.cid, index)).map_err(|e| thrown("chunk write", e))?;
        store(&tx, FILES)?.put_with_key(&record_json, &cid).map_err(|e| thrown("chunk write", e))?;
        committed(&tx, "chunk write").await
    }

    async fn put_file(&self, record: &FileRecord) -> Result<()> {
        self.put_one(FILES, JsValue::from_str(&record.cid.to_string()), to_json(record)?).await
    }

    async fn chunk(&self, cid: &Cid, index: u32) -> Result<Option<Vec<u8>>> {
        let tx = self.db.transaction(&[CHUNKS], Readonly).await?;
        let request = store(&tx, CHUNKS)?.get(&chunk_key(cid, index)).map_err(|e| thrown(CHUNKS, e))?;
        let value = settled(&request, CHUNKS).await?;
        Ok(chunk_array(value).await.map(|a| a.to_vec()))
    }

    /// One transaction, every get issued before the first is awaited; the Blobs' bytes are
    /// then read together and copied once, straight into `out`.
    async fn append_chunks(&self, file: &FileRecord, indices: std::ops::Range<u32>, out: &mut Vec<u8>) -> Result<bool> {
        let tx = self.db.transaction(&[CHUNKS], Readonly).await?;
        let chunks = store(&tx, CHUNKS)?;
        let mut requests = Vec::with_capacity(indices.len());
        for i in indices.clone() {
            let request = chunks.get(&chunk_key(&file.cid, i)).map_err(|e| thrown(CHUNKS, e))?;
            requests.push(settled(&request, CHUNKS));
        }
        let values = join_all(requests).await.into_iter().collect::<Result<Vec<_>>>()?;
        for (i, array) in indices.zip(join_all(values.into_iter().map(chunk_array)).await) {
            match array {
                Some(a) if a.length() as usize == file.chunk_len(i) => append(out, &a),
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    async fn delete_file(&self, record: &FileRecord) -> Result<()> {
        let prefix = format!("{}/", record.cid);
        // Every key "<cid>/…": '0' (0x30) is above '/' (0x2f), so "<cid>0" bounds them.
        let range = web_sys::IdbKeyRange::bound_with_lower_open_and_upper_open(
            &JsValue::from_str(&prefix),
            &JsValue::from_str(&format!("{}0", record.cid)),
            false,
            true,
        )
        .map_err(|e| thrown("key range", e))?;
        let tx = self.db.transaction(&[FILES, CHUNKS], Readwrite).await?;
        store(&tx, CHUNKS)?.delete(&range).map_err(|e| thrown("delete", e))?;
        store(&tx, FILES)?.delete(&JsValue::from_str(&record.cid.to_string())).map_err(|e| thrown("delete", e))?;
        committed(&tx, "delete").await
    }

    async fn models(&self) -> Result<Vec<ModelRecord>> {
        self.get_all(MODELS).await
    }

    async fn put_model(&self, model: &ModelRecord) -> Result<()> {
        self.put_one(MODELS, JsValue::from_str(&model.name), to_json(model)?).await
    }

    async fn delete_model(&self, name: &str) -> Result<()> {
        let tx = self.db.transaction(&[MODELS], Readwrite).await?;
        store(&tx, MODELS)?.delete(&JsValue::from_str(name)).map_err(|e| thrown(MODELS, e))?;
        committed(&tx, MODELS).await
    }

    async fn quota(&self) -> Result<Option<Quota>> {
        let Some(storage) = storage_manager() else { return Ok(None) };
        let promise = storage.estimate().map_err(|e| Error::Store(format!("storage.estimate(): {e:?}")))?;
        let estimate =
            wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| Error::Store(format!("storage.estimate(): {e:?}")))?;
        let number = |key: &str| js_sys::Reflect::get(&estimate, &key.into()).ok().and_then(|v| v.as_f64()).map(|v| v as u64);
        Ok(match (number("usage"), number("quota")) {
            (Some(usage), Some(quota)) => Some(Quota { usage, quota }),
            _ => None,
        })
    }

    /// Only windows have `navigator.storage.persist()`; in a worker the answer is no.
    async fn persist(&self) -> Result<bool> {
        let Some(storage) = storage_manager() else { return Ok(false) };
        let has_persist = js_sys::Reflect::get(&storage, &"persist".into()).is_ok_and(|f| f.is_function());
        if !has_persist {
            return Ok(false);
        }
        let promise = storage.persist().map_err(|e| Error::Store(format!("storage.persist(): {e:?}")))?;
        let granted = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(|e| Error::Store(format!("storage.persist(): {e:?}")))?;
        Ok(granted.as_bool().unwrap_or(false))
    }
}

/// A chunk as a Blob. Its bytes are first copied out of the wasm memory: the Blob constructor
/// refuses views of a SharedArrayBuffer, which the threaded build's memory is.
fn chunk_blob(bytes: &[u8]) -> Result<web_sys::Blob> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|e| Error::Store(format!("IndexedDB chunk write: Blob: {e:?}")))
}

/// A stored chunk's bytes: a Blob's, or an older store's Uint8Array. Anything else (e.g. a
/// value tampered with) reads as missing, so the file is fetched again.
async fn chunk_array(value: JsValue) -> Option<js_sys::Uint8Array> {
    let value = match value.dyn_into::<web_sys::Blob>() {
        // A Blob whose file the browser cannot read back is a damaged chunk like any other.
        Ok(blob) => match wasm_bindgen_futures::JsFuture::from(blob.array_buffer()).await {
            Ok(buffer) => buffer,
            Err(_) => return None,
        },
        Err(other) => other,
    };
    if value.is_instance_of::<js_sys::ArrayBuffer>() {
        Some(js_sys::Uint8Array::new(&value))
    } else {
        value.dyn_into::<js_sys::Uint8Array>().ok()
    }
}

/// Copy `a` onto the end of `out`: one copy out of the JS heap, no zero-filling first.
fn append(out: &mut Vec<u8>, a: &js_sys::Uint8Array) {
    let (start, len) = (out.len(), a.length() as usize);
    out.reserve(len);
    a.copy_to_uninit(&mut out.spare_capacity_mut()[..len]);
    // SAFETY: copy_to_uninit wrote all `len` bytes after `start`.
    unsafe { out.set_len(start + len) };
}

/// `navigator.storage` in a window or a worker, where the platform has one.
fn storage_manager() -> Option<web_sys::StorageManager> {
    let global = js_sys::global();
    if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        return Some(w.navigator().storage());
    }
    global.dyn_ref::<web_sys::WorkerGlobalScope>().map(|w| w.navigator().storage())
}
