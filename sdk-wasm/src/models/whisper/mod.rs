//! Whisper (speech to text) from a CTranslate2 `WhisperSpec` model.bin with its `config.json`
//! (tokens to suppress) and `tokenizer.json`: log-mel features (`audio::mel`), the encoder,
//! and decoding one 30-second window at a time — greedy or beam search, with or without
//! timestamps (`search`).

mod decoder;
mod encoder;
mod search;
mod weights;

use crate::audio::{mel, Audio};
use crate::core::error::{Error, Result};
use crate::device::Device;
use crate::models::generation::KvCache;
use crate::tensor::Tensor;
use crate::text::TextTokenizer;
use crate::weights::Ct2Model;
use decoder::{CrossKv, Decoder};
use encoder::Encoder;
use search::{beam_search, Rules, Stepper, TimestampTokens};
pub use search::{Decoding, MAX_BEAM, TIMESTAMP_STEP};
use weights::Weights;

/// Whisper's layer-norm epsilon (PyTorch's default).
const LAYER_NORM_EPS: f32 = 1e-5;

/// The special tokens decoding needs.
struct Special {
    end: u32,
    start: u32,
    no_timestamps: u32,
}

/// A transcript of one window: its text, the token ids after the prompt (timestamps
/// included, without end-of-text) and, with timestamps, its timed pieces.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub text: String,
    pub tokens: Vec<u32>,
    pub pieces: Vec<TimedText>,
}

/// Text between two timestamps, in seconds from the window's start.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedText {
    pub start: f64,
    pub end: f64,
    pub text: String,
}

pub struct Whisper {
    encoder: Encoder,
    decoder: Decoder,
    tokenizer: TextTokenizer,
    special: Special,
    timestamps: TimestampTokens,
    /// Never generated (the config's `suppress_ids`), and not as the first token
    /// (`suppress_ids_begin`: a blank or an immediate end).
    suppress: Vec<u32>,
    suppress_begin: Vec<u32>,
    device: Device,
    mels: usize,
    /// Positions the decoder has (prompt and output together).
    context: usize,
    weight_bytes: u64,
}

fn ids(config: &serde_json::Value, key: &str) -> Result<Vec<u32>> {
    let list = config[key].as_array().ok_or_else(|| Error::Model(format!("config.json has no {key} list")))?;
    list.iter()
        .map(|v| v.as_u64().map(|i| i as u32).ok_or_else(|| Error::Model(format!("config.json {key}: {v} is not a token id"))))
        .collect()
}

impl Whisper {
    pub async fn from_files(model_bin: &[u8], config_json: &[u8], tokenizer_json: &[u8], device: &Device) -> Result<Whisper> {
        let file = Ct2Model::parse(model_bin)?;
        if file.spec != "WhisperSpec" {
            return Err(Error::Model(format!("model.bin holds a {}, not a WhisperSpec", file.spec)));
        }
        let w = Weights { file: &file, device };
        w.expect("decoder/pre_norm", 1, "pre-norm layers")?;
        w.expect("decoder/activation", 3, "GELU")?;
        let conv1 = file.variable("encoder/conv1/weight")?;
        let &[d, mels, 3] = conv1.dims.as_slice() else {
            return Err(Error::Model(format!("encoder/conv1/weight has shape {:?}, expected [d, mels, 3]", conv1.dims)));
        };
        let heads = file.int("encoder/num_heads")? as usize;
        if heads == 0 || d % heads != 0 || file.int("decoder/num_heads")? as usize != heads {
            return Err(Error::Model(format!("{heads} heads do not divide width {d} (or encoder and decoder differ)")));
        }
        let audio_positions = file.variable("encoder/position_encodings/encodings")?.dims.first().copied().unwrap_or(0);
        if audio_positions * 2 != mel::WINDOW_FRAMES || mels != mel::N_MELS {
            return Err(Error::Model(format!("{mels} mels over {audio_positions} positions; Whisper's window is 80 mels, 1500 positions")));
        }
        let embeddings = file.variable("decoder/embeddings/weight")?.dims.clone();
        let vocab = embeddings.first().copied().unwrap_or(0);
        let context = file.variable("decoder/position_encodings/encodings")?.dims.first().copied().unwrap_or(0);
        let encoder = Encoder::load(&w, mels, d, heads, audio_positions).await?;
        let decoder = Decoder::load(&w, d, heads, vocab, context).await?;
        let tokenizer = TextTokenizer::from_json(tokenizer_json, usize::MAX)?;
        let id = |t: &str| tokenizer.token_id(t).ok_or_else(|| Error::Model(format!("tokenizer.json has no {t}")));
        let special = Special { end: id("<|endoftext|>")?, start: id("<|startoftranscript|>")?, no_timestamps: id("<|notimestamps|>")? };
        // The timestamp tokens follow <|notimestamps|> to the end of the vocabulary.
        let begin = special.no_timestamps + 1;
        if vocab < begin as usize + 2 {
            return Err(Error::Model(format!("a vocabulary of {vocab} has no timestamp tokens after <|notimestamps|> ({})", begin - 1)));
        }
        let timestamps = TimestampTokens {
            end_of_text: special.end,
            no_timestamps: special.no_timestamps,
            begin,
            end: vocab as u32 - 1,
            max_initial: (begin + MAX_INITIAL_TIMESTAMP).min(vocab as u32 - 1),
        };
        let config: serde_json::Value = serde_json::from_slice(config_json).map_err(|e| Error::Model(format!("config.json: {e}")))?;
        Ok(Whisper {
            encoder,
            decoder,
            special,
            timestamps,
            suppress: ids(&config, "suppress_ids")?,
            suppress_begin: ids(&config, "suppress_ids_begin")?,
            tokenizer,
            device: device.clone(),
            mels,
            context,
            weight_bytes: file.float_elements() * 4,
        })
    }

    /// The log-mel features of the first 30 s of `audio` (any rate), time-major [3000, 80].
    pub async fn features(&self, audio: &Audio) -> Result<Vec<f32>> {
        if audio.rate == crate::audio::SPEECH_RATE {
            return mel::log_mel(audio).await;
        }
        mel::log_mel(&audio.clone().at_speech_rate()).await
    }

    /// The encoder's output [1500, d] for `features` [3000, 80].
    pub async fn encode(&self, features: &[f32]) -> Result<Tensor> {
        if features.len() != mel::WINDOW_FRAMES * self.mels {
            return Err(Error::Model(format!(
                "features hold {} values, a window is {} frames × {} mels",
                features.len(),
                mel::WINDOW_FRAMES,
                self.mels
            )));
        }
        self.encoder.forward(features, mel::WINDOW_FRAMES, self.mels, &self.device).await
    }

    /// One window's token ids after the prompt (without end-of-text), decoded as `decoding` says.
    pub async fn decode(&self, encoded: &Tensor, decoding: &Decoding) -> Result<Vec<u32>> {
        decoding.check()?;
        let beam = decoding.beam;
        let cross = self.decoder.cross_kv(encoded).await?;
        let mut stepper = DecoderSteps { decoder: &self.decoder, cache: self.decoder.cache(self.context, beam, &self.device)?, cross };
        let prompt: &[u32] = if decoding.timestamps { &[self.special.start] } else { &[self.special.start, self.special.no_timestamps] };
        let mut logits = Vec::new();
        for &token in prompt {
            logits = stepper.next(&vec![token; beam], &[]).await?;
        }
        let rules = Rules {
            suppress: &self.suppress,
            suppress_begin: &self.suppress_begin,
            timestamps: decoding.timestamps.then_some(self.timestamps),
        };
        // CTranslate2 generates at most half the context (and never past it).
        let max_steps = (self.context / 2).min(self.context + 1 - prompt.len());
        beam_search(&rules, beam, self.special.end, max_steps, logits, &mut stepper).await
    }

    /// Speech in the first 30 s of `audio` as text.
    pub async fn transcribe(&self, audio: &Audio, decoding: &Decoding) -> Result<Transcript> {
        let encoded = self.encode(&self.features(audio).await?).await?;
        let tokens = self.decode(&encoded, decoding).await?;
        let text_of = |ids: &[u32]| -> Result<String> {
            let text: Vec<u32> = ids.iter().copied().filter(|&t| t < self.timestamps.begin).collect();
            Ok(self.tokenizer.decode(&text)?.trim().to_string())
        };
        let pieces = if decoding.timestamps {
            let window = audio.seconds().min(WINDOW_SECONDS);
            self.timestamps
                .pieces(&tokens, window)
                .into_iter()
                .map(|(start, end, ids)| Ok(TimedText { start, end, text: text_of(&ids)? }))
                .collect::<Result<Vec<_>>>()?
        } else {
            Vec::new()
        };
        Ok(Transcript { text: text_of(&tokens)?, tokens, pieces })
    }

    /// Speech of any length: cut into windows of at most 30 s — at the gaps `speech` (voice
    /// activity segments, in seconds) leaves, else every 30 s — each transcribed, the texts
    /// joined with spaces. Windows without speech are skipped.
    pub async fn transcribe_long(
        &self,
        audio: &Audio,
        speech: Option<&[(f64, f64)]>,
        decoding: &Decoding,
    ) -> Result<Vec<(f64, f64, Transcript)>> {
        let audio = audio.clone().at_speech_rate();
        let seconds = audio.seconds();
        let windows = match speech {
            Some(segments) => windows_from_segments(segments, WINDOW_SECONDS),
            None => (0..(seconds / WINDOW_SECONDS).ceil() as usize)
                .map(|i| (i as f64 * WINDOW_SECONDS, ((i + 1) as f64 * WINDOW_SECONDS).min(seconds)))
                .collect(),
        };
        let mut out = Vec::with_capacity(windows.len());
        for (start, end) in windows {
            let at = |s: f64| ((s * f64::from(audio.rate)).round() as usize).min(audio.samples.len());
            let (a, b) = (at(start), at(end));
            if b <= a {
                continue;
            }
            let piece = Audio::new(audio.rate, audio.samples[a..b].to_vec())?;
            out.push((start, end, self.transcribe(&piece, decoding).await?));
        }
        Ok(out)
    }

    /// Where the model's weights live and its ops run.
    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn decoder_layers(&self) -> usize {
        self.decoder.layer_count()
    }

    /// Bytes of f32 weights held.
    pub fn weight_bytes(&self) -> u64 {
        self.weight_bytes
    }
}

/// Whisper's window.
pub const WINDOW_SECONDS: f64 = 30.0;

/// The first timestamp is at most this many steps (of 0.02 s) in: CTranslate2's default.
const MAX_INITIAL_TIMESTAMP: u32 = 50;

/// The decoder stepping every beam at once over one KV cache.
struct DecoderSteps<'a> {
    decoder: &'a Decoder,
    cache: KvCache,
    cross: CrossKv,
}

impl Stepper for DecoderSteps<'_> {
    async fn next(&mut self, tokens: &[u32], parents: &[u32]) -> Result<Vec<f32>> {
        if !parents.is_empty() {
            self.cache.reorder_beams(parents).await?;
        }
        self.decoder.step(tokens, &mut self.cache, &self.cross).await
    }
}

/// Speech segments merged into windows of at most `max` seconds (a segment longer than that
/// is split evenly).
pub fn windows_from_segments(segments: &[(f64, f64)], max: f64) -> Vec<(f64, f64)> {
    let mut windows: Vec<(f64, f64)> = Vec::new();
    for &(start, end) in segments {
        let pieces = ((end - start) / max).ceil().max(1.0);
        let step = (end - start) / pieces;
        for i in 0..pieces as usize {
            let (s, e) = (start + i as f64 * step, start + (i + 1) as f64 * step);
            match windows.last_mut() {
                Some(w) if e - w.0 <= max => w.1 = e,
                _ => windows.push((s, e)),
            }
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_are_packed_into_windows_of_at_most_30_s() {
        let w = super::windows_from_segments(&[(1.0, 5.0), (6.0, 20.0), (25.0, 40.0), (41.0, 110.0)], 30.0);
        assert_eq!(w[0], (1.0, 20.0));
        assert!(w.iter().all(|(s, e)| e - s <= 30.0 + 1e-9), "{w:?}");
        assert_eq!(w.last().map(|w| w.1), Some(110.0));
    }
}
