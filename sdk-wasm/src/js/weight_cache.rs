//! The weight cache a runtime uses: IndexedDB, or caching off (with the reason). Model
//! loading reads through it; it sits below `runtime.rs` so loaders need not import the runtime.

use crate::store::{IdbStore, NoStore, WeightCache};

pub(super) enum Cache {
    IndexedDb(WeightCache<IdbStore>),
    Off(WeightCache<NoStore>, String),
}

/// `$body` with `$c` bound to whichever weight cache is in use (the two are different types).
macro_rules! with_cache {
    ($cache:expr, $c:ident => $body:expr) => {
        match $cache {
            crate::js::weight_cache::Cache::IndexedDb($c) => $body,
            crate::js::weight_cache::Cache::Off($c, _) => $body,
        }
    };
}
pub(super) use with_cache;
