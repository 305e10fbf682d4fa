//! Text input: HF `tokenizer.json` tokenisation, identical natively and in wasm.

mod tokenizer;

pub use tokenizer::{Encoding, TextTokenizer};
