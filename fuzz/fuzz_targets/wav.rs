//! WAV files: parse (chunks, formats, channels), then bring the sound to 16 kHz as the speech
//! models do.
#![no_main]
use ipfs_accelerate::audio::wav;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(audio) = wav::read(data) {
        // Bounded: resampling cost grows with the samples, and fuzz inputs are small.
        if audio.samples.len() < 4096 {
            let _ = audio.at_speech_rate();
        }
    }
});
