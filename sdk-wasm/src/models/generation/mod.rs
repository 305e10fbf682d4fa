//! Text generation over any causal language model: the `CausalLm` trait a decoder family
//! implements (LLaMA today), and what needs only that trait — the KV cache, the step-by-step
//! `Generator` (prefill, then one token per step, whole UTF-8 pieces), sampling and chat
//! templates. Nothing here knows which model family, or which device, it runs.

mod chat;
mod generate;
mod generate_result;
mod kv_cache;
mod options;
mod sampling;

pub use crate::text::{Prompt, PromptPart};
pub use chat::{chat_messages, chat_prompt, ChatMessage};
pub use generate::{generate, FinishReason, Generated, Generation, Generator};
pub use generate_result::GenerateResult;
pub use kv_cache::KvCache;
pub use options::{activations_option, kv_cache_dtype};
pub use sampling::{argmax, Sampler, Sampling};

use crate::device::Device;
use crate::error::Result;
use crate::tensor::DType;
use std::future::Future;
use std::pin::Pin;

/// Logits a forward pass resolves to. Not `Send`: in the browser GPU work is tied to the
/// page's thread, and natively nothing spawns a forward pass onto another thread.
pub type Logits<'a> = Pin<Box<dyn Future<Output = Result<Vec<f32>>> + 'a>>;

/// A decoder-only language model: token ids in, next-token logits out, with the keys and
/// values of earlier positions in a `KvCache`. Object-safe, so a `LanguageModel` holds any
/// family as `Box<dyn CausalLm>`.
pub trait CausalLm {
    /// Size of the vocabulary (the length of one position's logits).
    fn vocab(&self) -> usize;

    /// Positions the model was trained for (prompt + output).
    fn context(&self) -> usize;

    fn device(&self) -> &Device;

    /// Bytes of weights held (block formats count at their packed size).
    fn weight_bytes(&self) -> u64;

    /// Milliseconds the load spent scanning weights for NaN and infinity.
    fn finite_scan_ms(&self) -> f64;

    /// An empty KV cache on the model's device for up to `capacity` positions (bounded by the
    /// context), holding keys and values in `dtype` (F32; or Q8_0 / Q4_1 / Q2 on the CPU).
    fn cache_in(&self, capacity: usize, dtype: DType) -> Result<KvCache>;

    /// An empty f32 KV cache.
    fn cache(&self, capacity: usize) -> Result<KvCache> {
        self.cache_in(capacity, DType::F32)
    }

    /// Run `ids` (a prompt, or one new token) after what the cache holds; resolves to the
    /// logits of the last position (length `vocab`) and advances the cache.
    fn forward<'a>(&'a self, ids: &'a [u32], cache: &'a mut KvCache) -> Logits<'a>;

    /// As `forward`, with the logits of every position (`ids.len()` × `vocab`), for perplexity.
    fn forward_all<'a>(&'a self, ids: &'a [u32], cache: &'a mut KvCache) -> Logits<'a>;

    /// The same model with every linear weight re-quantized to `dtype` (our Q2/Q3), for the
    /// ultra-low-bit study.
    fn requantized(&self, dtype: DType) -> Result<Box<dyn CausalLm>>;
}
