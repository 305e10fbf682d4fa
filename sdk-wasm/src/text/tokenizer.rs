//! A Hugging Face tokenizer (WordPiece for BERT, BPE, Unigram …) loaded from `tokenizer.json`.

use crate::core::error::{Error, Result};
use tokenizers::{Tokenizer, TruncationParams};

/// Token ids and the attention mask (1 = real token, 0 = padding), same length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    pub ids: Vec<u32>,
    pub mask: Vec<u32>,
}

pub struct TextTokenizer {
    inner: Tokenizer,
}

impl TextTokenizer {
    /// Parse `tokenizer.json`; sequences are truncated to `max_tokens` (the model's limit).
    /// The file's padding is switched off: batches are padded to their own longest member
    /// by the model, so a short text costs a short forward pass.
    pub fn from_json(bytes: &[u8], max_tokens: usize) -> Result<TextTokenizer> {
        let mut inner = Tokenizer::from_bytes(bytes).map_err(|e| Error::Model(format!("tokenizer.json: {e}")))?;
        inner
            .with_truncation(Some(TruncationParams { max_length: max_tokens, ..TruncationParams::default() }))
            .map_err(|e| Error::Model(format!("tokenizer truncation: {e}")))?;
        inner.with_padding(None);
        Ok(TextTokenizer { inner })
    }

    /// The truncation length written in `tokenizer.json`, if the file sets one.
    pub fn configured_max_length(bytes: &[u8]) -> Option<usize> {
        let json: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        json.get("truncation")?.get("max_length")?.as_u64().map(|n| n as usize)
    }

    /// The text of `ids`, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, true).map_err(|e| Error::Model(format!("decoding {} tokens: {e}", ids.len())))
    }

    /// The id of a token (e.g. `<|endoftext|>`), if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn encode(&self, text: &str) -> Result<Encoding> {
        let enc = self.inner.encode(text, true).map_err(|e| Error::Model(format!("tokenizing {text:?}: {e}")))?;
        Ok(Encoding { ids: enc.get_ids().to_vec(), mask: enc.get_attention_mask().to_vec() })
    }
}
