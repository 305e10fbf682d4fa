//! IndexedDB plumbing on web-sys: a connection that reopens itself, requests and transactions
//! as futures, and failures named by their DOMException.
//!
//! Requests and transactions settle through Promises whose resolve/reject functions are the
//! event handlers, so no Rust closure is left behind for an event to call. (rexie, used before,
//! kept a run-once closure per handler: a failing transaction fires `error` once per request,
//! and the second call threw "closure invoked recursively or after being dropped" in the
//! worker, losing the load.)
//!
//! A transaction commits once nothing is pending on it when control returns to the event loop.
//! So every request of a transaction is issued, and its end listened for, before the first
//! await: in the threaded build a future resumes in a later task.

use crate::core::error::{Error, Result};
use std::cell::RefCell;
use std::future::Future;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

/// A connection to one database, opened again when the browser has closed it (Chromium closes
/// connections after a write fails on a full disk).
pub struct Connection {
    name: String,
    version: u32,
    stores: &'static [&'static str],
    db: RefCell<IdbDatabase>,
}

impl Connection {
    /// Open (creating it and its object `stores` on first use) the database `name`.
    pub async fn open(name: &str, version: u32, stores: &'static [&'static str]) -> Result<Connection> {
        let db = open_database(name, version, stores).await?;
        Ok(Connection { name: name.to_string(), version, stores, db: RefCell::new(db) })
    }

    /// A transaction over `stores`. Without a connection to start it on, it is opened again,
    /// once; a connection that is open starts it without yielding.
    pub async fn transaction(&self, stores: &[&str], mode: IdbTransactionMode) -> Result<IdbTransaction> {
        let names: js_sys::Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        let started = self.db.borrow().transaction_with_str_sequence_and_mode(&names, mode);
        if let Ok(tx) = started {
            return Ok(tx);
        }
        let db = open_database(&self.name, self.version, self.stores).await?;
        let tx = db.transaction_with_str_sequence_and_mode(&names, mode).map_err(|e| thrown(&format!("{stores:?} transaction"), e))?;
        *self.db.borrow_mut() = db;
        Ok(tx)
    }
}

async fn open_database(name: &str, version: u32, stores: &'static [&'static str]) -> Result<IdbDatabase> {
    let request = factory()?.open_with_u32(name, version).map_err(|e| thrown("open", e))?;
    // Runs inside the open, in the one event that may create object stores.
    let upgrade = {
        let request = request.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            let Ok(db) = request.result().map(IdbDatabase::unchecked_from_js) else { return };
            for store in stores {
                if !db.object_store_names().contains(store) {
                    // A failure here aborts the upgrade, and the open reports it.
                    let _ = db.create_object_store(store);
                }
            }
        })
    };
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let opened = settled(&request, "open").await;
    request.set_onupgradeneeded(None);
    drop(upgrade);
    Ok(opened?.unchecked_into())
}

fn factory() -> Result<web_sys::IdbFactory> {
    let global = js_sys::global();
    let factory = if let Some(w) = global.dyn_ref::<web_sys::Window>() {
        w.indexed_db()
    } else if let Some(w) = global.dyn_ref::<web_sys::WorkerGlobalScope>() {
        w.indexed_db()
    } else {
        Ok(None)
    };
    factory.map_err(|e| thrown("open", e))?.ok_or_else(|| Error::Store("IndexedDB is not available here".into()))
}

/// The object store `name` of `tx`.
pub fn store(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore> {
    tx.object_store(name).map_err(|e| thrown(name, e))
}

/// The result of `request` once it succeeds; its DOMException, named, when it fails. The
/// handlers are set now, before the caller's first await.
pub fn settled(request: &IdbRequest, what: &str) -> impl Future<Output = Result<JsValue>> + 'static {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let (request, what) = (request.clone(), what.to_string());
    async move {
        JsFuture::from(promise).await.map_err(|_| named(&what, request.error().ok().flatten()))?;
        request.result().map_err(|e| thrown(&what, e))
    }
}

/// Resolves when `tx` commits; fails with the error that aborted it (a failed request's, such
/// as QuotaExceededError). Listened for now, before the caller's first await.
pub fn committed(tx: &IdbTransaction, what: &str) -> impl Future<Output = Result<()>> + 'static {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let (tx, what) = (tx.clone(), what.to_string());
    async move { JsFuture::from(promise).await.map(|_| ()).map_err(|_| named(&what, tx.error())) }
}

/// A request that threw as it was made (a closed connection, a value that cannot be stored).
pub fn thrown(what: &str, e: JsValue) -> Error {
    match e.dyn_into::<DomException>() {
        Ok(d) => named(what, Some(d)),
        Err(e) => Error::Store(format!("IndexedDB {what}: {e:?}")),
    }
}

fn named(what: &str, e: Option<DomException>) -> Error {
    Error::Store(match e {
        Some(e) => format!("IndexedDB {what}: {}: {}", e.name(), e.message()),
        None => format!("IndexedDB {what} failed"),
    })
}
