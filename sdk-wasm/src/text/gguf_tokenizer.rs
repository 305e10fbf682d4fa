//! A byte-level BPE tokenizer rebuilt from a GGUF file's metadata (`tokenizer.ggml.*`:
//! tokens, merges, token types), with the pre-tokenizer that `tokenizer.ggml.pre` names.

use super::prompt::{Prompt, PromptPart};
use crate::core::error::{Error, Result};
use crate::weights::Gguf;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, Tokenizer};

/// GGUF's token type for control tokens (`<|im_start|>` …), matched before BPE runs.
const CONTROL: i64 = 3;

pub struct GgufTokenizer {
    inner: Tokenizer,
    /// The same tokenizer with control-token spellings read as plain text (message content).
    literal: Tokenizer,
    pub bos: Option<u32>,
    pub eos: u32,
    pub add_bos: bool,
}

fn bad(detail: impl Into<String>) -> Error {
    Error::Model(format!("GGUF tokenizer: {}", detail.into()))
}

impl GgufTokenizer {
    pub fn from_gguf(g: &Gguf) -> Result<GgufTokenizer> {
        let model = g.string("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(bad(format!("tokenizer.ggml.model {model:?} is not supported (only byte-level BPE, \"gpt2\")")));
        }
        let tokens = g.strings("tokenizer.ggml.tokens")?;
        let types = g.ints("tokenizer.ggml.token_type").unwrap_or_default();
        let merges: Vec<(String, String)> = g
            .strings("tokenizer.ggml.merges")?
            .iter()
            .map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())).ok_or_else(|| bad(format!("merge {m:?} has no space"))))
            .collect::<Result<_>>()?;
        let vocab: tokenizers::models::bpe::Vocab = tokens.iter().enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect();
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| bad(e.to_string()))?;
        let mut inner = Tokenizer::new(bpe);
        let byte_level = PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true));
        let pre = match g.string("tokenizer.ggml.pre").unwrap_or("default") {
            // SmolLM splits every digit on its own before GPT-2's byte-level rule.
            "smollm" => PreTokenizerWrapper::Sequence(Sequence::new(vec![PreTokenizerWrapper::Digits(Digits::new(true)), byte_level])),
            "default" | "gpt2" => byte_level,
            other => return Err(bad(format!("pre-tokenizer {other:?} is not supported (smollm, gpt2)"))),
        };
        inner.with_pre_tokenizer(Some(pre));
        inner.with_decoder(Some(tokenizers::decoders::byte_level::ByteLevel::default()));
        let special: Vec<AddedToken> = tokens
            .iter()
            .zip(types.iter().chain(std::iter::repeat(&1)))
            .filter(|(_, &ty)| ty == CONTROL)
            .map(|(t, _)| AddedToken::from(t.to_string(), true))
            .collect();
        inner.add_special_tokens(&special);
        let id = |key: &str| g.uint(key).ok().map(|v| v as u32);
        let eos = id("tokenizer.ggml.eos_token_id").ok_or_else(|| bad("tokenizer.ggml.eos_token_id is missing"))?;
        let add_bos = matches!(g.metadata().get("tokenizer.ggml.add_bos_token"), Some(crate::weights::MetaValue::Bool(true)));
        let mut literal = inner.clone();
        literal.set_encode_special_tokens(true);
        Ok(GgufTokenizer { inner, literal, bos: id("tokenizer.ggml.bos_token_id"), eos, add_bos })
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Token ids of `text` (control tokens written in the text are matched as such).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        self.encode_prompt(&Prompt::raw(text))
    }

    /// Token ids of a prompt: its template parts with control tokens matched, its content
    /// parts with every character as text.
    pub fn encode_prompt(&self, prompt: &Prompt) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        if let (true, Some(bos)) = (self.add_bos, self.bos) {
            ids.push(bos);
        }
        for part in &prompt.parts {
            let (tokenizer, text) = match part {
                PromptPart::Template(t) => (&self.inner, t),
                PromptPart::Content(t) => (&self.literal, t),
            };
            let enc = tokenizer.encode(text.as_str(), false).map_err(|e| bad(format!("tokenizing {text:?}: {e}")))?;
            ids.extend_from_slice(enc.get_ids());
        }
        Ok(ids)
    }

    /// Text of `ids`, control tokens included.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| bad(format!("decoding: {e}")))
    }
}
