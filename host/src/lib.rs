//! The native host: drives real browsers over WebDriver, runs benchmarks natively and in
//! browsers, stores every result in DuckDB and writes reports.

pub mod allocator;
pub mod analysis;
pub mod apps;
pub mod backends;
pub mod bench;
pub mod browser;
pub mod byte_size;
pub mod commands;
pub mod doctor;
pub mod env_info;
pub mod error;
pub mod grid;
pub mod isolation;
pub mod json_get;
pub mod paths;
pub mod pool;
pub mod report;
pub mod server;
pub mod shard;
pub mod store;

pub use error::{HostError, Result};
