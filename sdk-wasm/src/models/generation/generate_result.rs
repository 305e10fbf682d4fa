//! What a generation resolves to in JS (`GenerateResult` in npm/index.d.ts): built as this type
//! and serialised as is, so sdk-wasm/tests/js_types.rs holds the declaration to it.

use super::{FinishReason, Generated};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResult {
    pub text: String,
    pub tokens: Vec<u32>,
    pub prompt_tokens: usize,
    pub finish_reason: FinishReason,
    pub prefill_ms: f64,
    pub time_to_first_token_ms: f64,
    pub decode_ms: f64,
    pub prefill_tokens_per_second: f64,
    pub decode_tokens_per_second: f64,
    pub kv_cache_bytes: u64,
}

impl From<&Generated> for GenerateResult {
    fn from(g: &Generated) -> GenerateResult {
        GenerateResult {
            text: g.text.clone(),
            tokens: g.ids.clone(),
            prompt_tokens: g.prompt_ids.len(),
            finish_reason: g.finish,
            prefill_ms: g.prefill_ms,
            time_to_first_token_ms: g.first_token_ms,
            decode_ms: g.decode_ms,
            prefill_tokens_per_second: g.prefill_tokens_per_s(),
            decode_tokens_per_second: g.decode_tokens_per_s(),
            kv_cache_bytes: g.kv_cache_bytes,
        }
    }
}
