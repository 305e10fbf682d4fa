//! The example apps (examples/<app>/, built from the packed npm tarball by `cargo xtask
//! build-examples` and served under `/apps/<app>/`) used as a person would: in a browser
//! session, typing, clicking and reading the page. The tests assert on what each visit saw;
//! `accelerate examples` prints it and keeps a screenshot of each app.

mod chat;
mod page;
mod semantic_search;
mod sizes;

pub use chat::{use_chat, ChatVisit};
pub use page::Page;
pub use semantic_search::{use_semantic_search, SearchVisit};
pub use sizes::{wasm_build_sizes, BuildSize};
