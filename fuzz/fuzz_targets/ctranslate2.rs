//! CTranslate2 model.bin: parse, then read variables and settings as a Whisper load would.
#![no_main]
use ipfs_accelerate::weights::Ct2Model;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Ct2Model::parse(data) {
        let _ = model.float_elements();
        let _ = model.int("encoder/num_heads");
        for name in ["w", "encoder/conv1/weight", "decoder/projection/weight"] {
            if let Ok(v) = model.variable(name) {
                let dims = v.dims.clone();
                let _ = model.tensor(name, &dims);
            }
        }
    }
});
