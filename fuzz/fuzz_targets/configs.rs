//! Model configs and tokenizer files: `config.json` for BERT, `tokenizer.json`.
#![no_main]
use ipfs_accelerate::models::bert::BertConfig;
use ipfs_accelerate::text::TextTokenizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = BertConfig::from_json(text);
    }
    let _ = TextTokenizer::configured_max_length(data);
});
