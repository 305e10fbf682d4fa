//! The browser store: IndexedDB through rexie. Object stores `files` (CID → JSON record),
//! `chunks` ("<cid>/<index>" → Blob, at most CHUNK_BYTES each) and `models`
//! (name → JSON record). A chunk and its file record are written in one transaction.
//!
//! Chunks are Blobs: Chromium reads a stored Blob back about twice as fast as the same bytes
//! stored as a Uint8Array (90 MB in 4 MB chunks: ~90 ms against ~190 ms), since a typed array
//! is unwrapped from its stored copy by structured clone. Stores written before hold
//! Uint8Arrays, which still read.
//!
//! A write issues every request of its transaction, and listens for the transaction's end,
//! before its first await returns (`join`): in the threaded build a future resumes in a later
//! task, by which time a transaction with nothing pending has already committed.

use super::blob_store::{BlobStore, FileRecord, ModelRecord, Quota};
use crate::core::error::{Error, Result};
use crate::weights::Cid;
use futures_util::future::{join, join3, join_all};
use rexie::{KeyRange, ObjectStore, Rexie, TransactionMode};
use wasm_bindgen::{JsCast, JsValue};

const DB_VERSION: u32 = 1;
const FILES: &str = "files";
const CHUNKS: &str = "chunks";
const MODELS: &str = "models";

pub struct IdbStore {
    db: Rexie,
}

/// rexie's own message is only "idb error": the causes underneath say what went wrong.
fn store_error(what: &str) -> impl Fn(rexie::Error) -> Error + '_ {
    move |e| {
        let mut message = format!("IndexedDB {what}: {e}");
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            message.push_str(&format!(": {c}"));
            cause = c.source();
        }
        Error::Store(message)
    }
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
        let db = Rexie::builder(name)
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(FILES))
            .add_object_store(ObjectStore::new(CHUNKS))
            .add_object_store(ObjectStore::new(MODELS))
            .build()
            .await
            .map_err(store_error("open"))?;
        Ok(IdbStore { db })
    }

    async fn get_all<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        let tx = self.db.transaction(&[name], TransactionMode::ReadOnly).map_err(store_error(name))?;
        let values = tx.store(name).map_err(store_error(name))?.get_all(None, None).await.map_err(store_error(name))?;
        values.iter().map(|v| from_json(v, name)).collect()
    }

    async fn put_one(&self, name: &str, key: JsValue, value: JsValue) -> Result<()> {
        let tx = self.db.transaction(&[name], TransactionMode::ReadWrite).map_err(store_error(name))?;
        let store = tx.store(name).map_err(store_error(name))?;
        let (put, done) = join(store.put(&value, Some(&key)), tx.done()).await;
        put.map_err(store_error(name))?;
        done.map_err(store_error(name))?;
        Ok(())
    }
}

impl BlobStore for IdbStore {
    async fn file(&self, cid: &Cid) -> Result<Option<FileRecord>> {
        let tx = self.db.transaction(&[FILES], TransactionMode::ReadOnly).map_err(store_error(FILES))?;
        let value =
            tx.store(FILES).map_err(store_error(FILES))?.get(JsValue::from_str(&cid.to_string())).await.map_err(store_error(FILES))?;
        value.filter(|v| !v.is_undefined()).map(|v| from_json(&v, FILES)).transpose()
    }

    async fn files(&self) -> Result<Vec<FileRecord>> {
        self.get_all(FILES).await
    }

    async fn put_chunk(&self, record: &FileRecord, index: u32, bytes: &[u8]) -> Result<()> {
        let tx = self.db.transaction(&[FILES, CHUNKS], TransactionMode::ReadWrite).map_err(store_error("chunk write"))?;
        let chunk: JsValue = chunk_blob(bytes)?.into();
        let (chunks, files) = (tx.store(CHUNKS).map_err(store_error(CHUNKS))?, tx.store(FILES).map_err(store_error(FILES))?);
        let (record_json, cid) = (to_json(record)?, JsValue::from_str(&record.cid.to_string()));
        let (chunk_put, file_put, done) =
            join3(chunks.put(&chunk, Some(&chunk_key(&record.cid, index))), files.put(&record_json, Some(&cid)), tx.done()).await;
        chunk_put.map_err(store_error(CHUNKS))?;
        file_put.map_err(store_error(FILES))?;
        done.map_err(store_error("chunk write"))?;
        Ok(())
    }

    async fn put_file(&self, record: &FileRecord) -> Result<()> {
        self.put_one(FILES, JsValue::from_str(&record.cid.to_string()), to_json(record)?).await
    }

    async fn chunk(&self, cid: &Cid, index: u32) -> Result<Option<Vec<u8>>> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(store_error(CHUNKS))?;
        let value = tx.store(CHUNKS).map_err(store_error(CHUNKS))?.get(chunk_key(cid, index)).await.map_err(store_error(CHUNKS))?;
        Ok(chunk_array(value).await?.map(|a| a.to_vec()))
    }

    /// One transaction, every get issued before the first is awaited; the Blobs' bytes are
    /// then read together and copied once, straight into `out`.
    async fn append_chunks(&self, file: &FileRecord, indices: std::ops::Range<u32>, out: &mut Vec<u8>) -> Result<bool> {
        let tx = self.db.transaction(&[CHUNKS], TransactionMode::ReadOnly).map_err(store_error(CHUNKS))?;
        let store = tx.store(CHUNKS).map_err(store_error(CHUNKS))?;
        let values = join_all(indices.clone().map(|i| store.get(chunk_key(&file.cid, i)))).await;
        let values: Vec<Option<JsValue>> = values.into_iter().map(|v| v.map_err(store_error(CHUNKS))).collect::<Result<_>>()?;
        for (i, array) in indices.zip(join_all(values.into_iter().map(chunk_array)).await) {
            match array? {
                Some(a) if a.length() as usize == file.chunk_len(i) => append(out, &a),
                _ => return Ok(false),
            }
        }
        Ok(true)
    }

    async fn delete_file(&self, record: &FileRecord) -> Result<()> {
        let prefix = format!("{}/", record.cid);
        // Every key "<cid>/…": '0' (0x30) is above '/' (0x2f), so "<cid>0" bounds them.
        let range = KeyRange::bound(&JsValue::from_str(&prefix), &JsValue::from_str(&format!("{}0", record.cid)), None, Some(true))
            .map_err(|e| Error::Store(format!("IndexedDB key range: {e}")))?;
        let tx = self.db.transaction(&[FILES, CHUNKS], TransactionMode::ReadWrite).map_err(store_error("delete"))?;
        let (chunks, files) = (tx.store(CHUNKS).map_err(store_error(CHUNKS))?, tx.store(FILES).map_err(store_error(FILES))?);
        let (chunks_deleted, file_deleted, done) =
            join3(chunks.delete(range.into()), files.delete(JsValue::from_str(&record.cid.to_string())), tx.done()).await;
        chunks_deleted.map_err(store_error(CHUNKS))?;
        file_deleted.map_err(store_error(FILES))?;
        done.map_err(store_error("delete"))?;
        Ok(())
    }

    async fn models(&self) -> Result<Vec<ModelRecord>> {
        self.get_all(MODELS).await
    }

    async fn put_model(&self, model: &ModelRecord) -> Result<()> {
        self.put_one(MODELS, JsValue::from_str(&model.name), to_json(model)?).await
    }

    async fn delete_model(&self, name: &str) -> Result<()> {
        let tx = self.db.transaction(&[MODELS], TransactionMode::ReadWrite).map_err(store_error(MODELS))?;
        let store = tx.store(MODELS).map_err(store_error(MODELS))?;
        let (deleted, done) = join(store.delete(JsValue::from_str(name)), tx.done()).await;
        deleted.map_err(store_error(MODELS))?;
        done.map_err(store_error(MODELS))?;
        Ok(())
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
async fn chunk_array(value: Option<JsValue>) -> Result<Option<js_sys::Uint8Array>> {
    let Some(value) = value else { return Ok(None) };
    let value = match value.dyn_into::<web_sys::Blob>() {
        Ok(blob) => wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
            .await
            .map_err(|e| Error::Store(format!("IndexedDB chunk read: {e:?}")))?,
        Err(other) => other,
    };
    Ok(if value.is_instance_of::<js_sys::ArrayBuffer>() {
        Some(js_sys::Uint8Array::new(&value))
    } else {
        value.dyn_into::<js_sys::Uint8Array>().ok()
    })
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
