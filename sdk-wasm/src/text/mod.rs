//! Text input: HF `tokenizer.json` tokenisation and GGUF-embedded BPE vocabularies,
//! identical natively and in wasm.

mod gguf_tokenizer;
mod prompt;
mod tokenizer;

pub use gguf_tokenizer::GgufTokenizer;
pub use prompt::{Prompt, PromptPart};
pub use tokenizer::{Encoding, TextTokenizer};
