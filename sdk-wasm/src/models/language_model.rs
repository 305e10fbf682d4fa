//! A loaded text-generation model: the decoder (any family, behind `CausalLm`), the tokenizer
//! rebuilt from the same GGUF file, and its chat template — what `accelerate run`, the bench
//! and the JS API hold.

use super::generation::{chat_messages, CausalLm, ChatMessage, Prompt};
use super::llama::Llama;
use crate::device::Device;
use crate::error::{Error, Result};
use crate::text::GgufTokenizer;
use crate::weights::Gguf;

pub struct LanguageModel {
    model: Box<dyn CausalLm>,
    tokenizer: GgufTokenizer,
    chat_template: Option<String>,
    /// `general.name` from the file, if any.
    name: Option<String>,
}

/// The decoder for the file's `general.architecture`.
fn decoder(gguf: &Gguf, device: &Device) -> Result<Box<dyn CausalLm>> {
    match gguf.string("general.architecture")? {
        "llama" => Ok(Box::new(Llama::from_gguf(gguf, device)?)),
        other => Err(Error::Model(format!("unknown architecture {other:?} (text generation reads \"llama\")"))),
    }
}

impl LanguageModel {
    /// Parse a GGUF file and put its weights on `device` (the file's bytes can be dropped after).
    pub fn from_gguf_bytes(bytes: &[u8], device: &Device) -> Result<LanguageModel> {
        let gguf = Gguf::parse(bytes)?;
        Ok(LanguageModel {
            tokenizer: GgufTokenizer::from_gguf(&gguf)?,
            model: decoder(&gguf, device)?,
            chat_template: gguf.string("tokenizer.chat_template").ok().map(str::to_string),
            name: gguf.string("general.name").ok().map(str::to_string),
        })
    }

    /// The decoder: vocabulary, context, weight bytes, KV caches, forward passes.
    pub fn model(&self) -> &dyn CausalLm {
        self.model.as_ref()
    }

    pub fn tokenizer(&self) -> &GgufTokenizer {
        &self.tokenizer
    }

    /// The file's `tokenizer.chat_template`, if any.
    pub fn chat_template(&self) -> Option<&str> {
        self.chat_template.as_deref()
    }

    /// `general.name` from the file, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The prompt the model sees for a conversation, through its chat template.
    pub fn chat(&self, messages: &[ChatMessage]) -> Result<Prompt> {
        chat_messages(self.chat_template.as_deref(), messages)
    }
}
