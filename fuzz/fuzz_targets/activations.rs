//! The shard stages' WebSocket messages: activations in their `IPA1` byte form.
#![no_main]
use ipfs_accelerate::models::bert::Activations;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = Activations::from_bytes(data) {
        assert_eq!(a.to_bytes(), data, "a parsed message must write back to the same bytes");
    }
});
