//! `accelerate run --model silero-vad --audio FILE.wav`: where the speech is in a WAV file
//! (Silero VAD on the CPU), with the speech probability over time and what it cost; and
//! `--model whisper-tiny.en`: the transcript, window by window.

use crate::backends::speech::{load_vad, load_whisper, SILERO_VAD, WHISPER};
use crate::error::{HostError, Result};
use ipfs_accelerate::audio::wav;
use ipfs_accelerate::models::vad::{segments, SegmentOptions, CHUNK};
use ipfs_accelerate::models::whisper::Decoding;
use std::path::Path;
use std::time::Instant;

pub async fn run(audio_path: &Path, threshold: f32) -> Result<String> {
    let bytes = std::fs::read(audio_path).map_err(|e| HostError::Invalid(format!("{}: {e}", audio_path.display())))?;
    let audio = wav::read(&bytes).map_err(|e| HostError::Invalid(format!("{}: {e}", audio_path.display())))?;
    let options = SegmentOptions { threshold, ..SegmentOptions::default() };
    options.check()?;
    let t0 = Instant::now();
    let vad = load_vad().await?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let (rate, seconds) = (audio.rate, audio.seconds());
    let speech = audio.at_speech_rate();
    let t1 = Instant::now();
    let probabilities = vad.probabilities(&speech).await?;
    let run_ms = t1.elapsed().as_secs_f64() * 1e3;
    let found = segments(&probabilities, speech.samples.len(), speech.rate, &options)?;
    let mut out =
        format!("model {SILERO_VAD} (Silero VAD 6, 16 kHz ONNX) on the CPU\n{}: {seconds:.2} s at {rate} Hz\n", audio_path.display());
    // One character per 0.128 s (four chunks): the chunk probabilities' maximum.
    let line: String =
        probabilities.chunks(4).map(|c| if c.iter().cloned().fold(0.0, f32::max) >= threshold { '█' } else { '·' }).collect();
    out += &format!("speech  {line}\n");
    for s in &found {
        out += &format!("  speech {:7.3} s → {:7.3} s ({:.2} s)\n", s.start, s.end, s.end - s.start);
    }
    let chunks = probabilities.len() as f64;
    out += &format!(
        "{} segments; load {load_ms:.1} ms, {} chunks of {CHUNK} samples in {run_ms:.1} ms ({:.0} chunks/s, {:.0}× real time)\n",
        found.len(),
        probabilities.len(),
        chunks / (run_ms / 1e3),
        speech.seconds() / (run_ms / 1e3)
    );
    Ok(out)
}

/// `accelerate run --model whisper-tiny.en --audio FILE.wav [--vad] [--beam N] [--timestamps]`:
/// the transcript, window by window (cut at the voice detector's pauses when `vad_threshold`
/// is given, else every 30 s), or timed piece by piece.
pub async fn transcribe(audio_path: &Path, backend: &str, decoding: &Decoding, vad_threshold: Option<f32>) -> Result<String> {
    decoding.check()?;
    let bytes = std::fs::read(audio_path).map_err(|e| HostError::Invalid(format!("{}: {e}", audio_path.display())))?;
    let audio = wav::read(&bytes).map_err(|e| HostError::Invalid(format!("{}: {e}", audio_path.display())))?.at_speech_rate();
    let t0 = Instant::now();
    let whisper = load_whisper(backend).await?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let speech = match vad_threshold {
        Some(threshold) => {
            let detector = load_vad().await?;
            let p = detector.probabilities(&audio).await?;
            let options = SegmentOptions { threshold, ..SegmentOptions::default() };
            Some(segments(&p, audio.samples.len(), audio.rate, &options)?.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>())
        }
        None => None,
    };
    let windows = whisper.transcribe_long(&audio, speech.as_deref(), decoding).await?;
    let run_ms = t1.elapsed().as_secs_f64() * 1e3;
    let search = if decoding.beam == 1 { "greedy".to_string() } else { format!("beam search, {} beams", decoding.beam) };
    let mut out = format!("model {WHISPER} (CTranslate2 model.bin, F16 weights widened to f32) on {backend}, {search}\n");
    for (start, end, t) in &windows {
        if decoding.timestamps {
            for p in &t.pieces {
                out += &format!("[{:7.2} → {:7.2}] {}\n", start + p.start, start + p.end, p.text);
            }
        } else {
            out += &format!("[{start:7.2} → {end:7.2}] {}\n", t.text);
        }
    }
    let seconds = audio.seconds();
    out += &format!(
        "{:.2} s of audio in {} windows; load {load_ms:.0} ms, transcribe {run_ms:.0} ms ({:.1}× real time)\n",
        seconds,
        windows.len(),
        seconds / (run_ms / 1e3)
    );
    Ok(out)
}
