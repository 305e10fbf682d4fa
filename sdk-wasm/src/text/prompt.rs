//! A prompt in parts, by who wrote each: the template (control tokens are tokens) or a
//! message's author (every character is text), so content cannot forge a control token.

/// One run of prompt text, by who wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptPart {
    /// Written by the template (or by the caller of a raw prompt): control tokens are tokens.
    Template(String),
    /// A message's content: every character is text, control-token spellings included.
    Content(String),
}

/// A prompt as parts, each tokenized by its own rule (`GgufTokenizer::encode_prompt`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prompt {
    pub parts: Vec<PromptPart>,
}

impl Prompt {
    /// A prompt the caller wrote whole, control tokens included on purpose (no template).
    pub fn raw(text: impl Into<String>) -> Prompt {
        Prompt { parts: vec![PromptPart::Template(text.into())] }
    }

    /// The whole prompt as one string (what the model sees, before tokenization).
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                PromptPart::Template(t) | PromptPart::Content(t) => t.as_str(),
            })
            .collect()
    }

    pub(crate) fn template(&mut self, text: impl Into<String>) {
        self.parts.push(PromptPart::Template(text.into()));
    }

    pub(crate) fn content(&mut self, text: &str) {
        self.parts.push(PromptPart::Content(text.to_string()));
    }
}
