//! A loaded text-generation model: the LLaMA decoder, the tokenizer rebuilt from the same
//! GGUF file, and its chat template — what `accelerate run`, the bench and the JS API hold.

use super::{chat_messages, ChatMessage, Llama};
use crate::core::error::Result;
use crate::device::Device;
use crate::text::GgufTokenizer;
use crate::weights::Gguf;

pub struct LanguageModel {
    pub llama: Llama,
    pub tokenizer: GgufTokenizer,
    pub chat_template: Option<String>,
    /// `general.name` from the file, if any.
    pub name: Option<String>,
}

impl LanguageModel {
    /// Parse a GGUF file and put its weights on `device` (the file's bytes can be dropped after).
    pub fn from_gguf_bytes(bytes: &[u8], device: &Device) -> Result<LanguageModel> {
        let gguf = Gguf::parse(bytes)?;
        Ok(LanguageModel {
            tokenizer: GgufTokenizer::from_gguf(&gguf)?,
            llama: Llama::from_gguf(&gguf, device)?,
            chat_template: gguf.string("tokenizer.chat_template").ok().map(str::to_string),
            name: gguf.string("general.name").ok().map(str::to_string),
        })
    }

    /// The text the model sees for a conversation, through its chat template.
    pub fn chat(&self, messages: &[ChatMessage]) -> Result<String> {
        chat_messages(self.chat_template.as_deref(), messages)
    }
}
