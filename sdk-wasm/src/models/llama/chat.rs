//! The prompt for a chat turn, from the model's own template (`tokenizer.chat_template`).
//! Templates are Jinja; rather than embed a Jinja engine we recognise the ChatML family
//! (`<|im_start|>role\n…<|im_end|>`, SmolLM2, Qwen …) and take its default system line from
//! the template text. Any other template is a clear error naming it.

use crate::error::{Error, Result};

pub fn chat_prompt(template: Option<&str>, user: &str) -> Result<String> {
    let template = template.ok_or_else(|| Error::Model("the model has no tokenizer.chat_template; pass a raw prompt".into()))?;
    if !template.contains("<|im_start|>") {
        let head: String = template.chars().take(60).collect();
        return Err(Error::Model(format!("chat template not supported (only ChatML): {head:?}…")));
    }
    let system =
        template.split_once("<|im_start|>system\n").and_then(|(_, rest)| rest.split_once("<|im_end|>")).map(|(text, _)| text.to_string());
    let mut out = String::new();
    if let Some(system) = system {
        out.push_str(&format!("<|im_start|>system\n{system}<|im_end|>\n"));
    }
    out.push_str(&format!("<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_with_default_system_line() {
        let t = "{% if x %}{{ '<|im_start|>system\nBe brief.<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + role}}";
        assert_eq!(
            chat_prompt(Some(t), "Hi").unwrap(),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        );
        assert!(chat_prompt(Some("[INST] {{ x }}"), "Hi").unwrap_err().to_string().contains("only ChatML"));
        assert!(chat_prompt(None, "Hi").is_err());
    }
}
