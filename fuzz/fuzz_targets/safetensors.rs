//! safetensors: parse, then read every tensor the header lists.
#![no_main]
use ipfs_accelerate::weights::SafeTensors;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(st) = SafeTensors::parse(data) {
        let names: Vec<String> = st.names().map(str::to_string).collect();
        for name in names {
            let _ = st.tensor(&name);
        }
    }
});
