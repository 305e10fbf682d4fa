//! Audio in: WAV files read into mono samples ([`wav`]), and any sample rate brought to the
//! 16 kHz the speech models run at ([`resample`]).

pub mod mel;
pub mod resample;
pub mod wav;

use crate::core::error::{Error, Result};

/// The rate the speech models (Silero VAD, Whisper) take.
pub const SPEECH_RATE: u32 = 16_000;

/// Mono samples in [-1, 1] at `rate` Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub rate: u32,
    pub samples: Vec<f32>,
}

impl Audio {
    pub fn new(rate: u32, samples: Vec<f32>) -> Result<Audio> {
        if !(1_000..=384_000).contains(&rate) {
            return Err(Error::Audio(format!("a sample rate of {rate} Hz is not audio (expected 1 kHz to 384 kHz)")));
        }
        if samples.is_empty() {
            return Err(Error::Audio("the audio is empty (no samples)".into()));
        }
        if let Some(i) = samples.iter().position(|v| !v.is_finite()) {
            return Err(Error::Audio(format!("sample {i} is {} (not a finite number)", samples[i])));
        }
        Ok(Audio { rate, samples })
    }

    /// The same sound at 16 kHz (itself when it already is).
    pub fn at_speech_rate(self) -> Audio {
        if self.rate == SPEECH_RATE {
            return self;
        }
        Audio { samples: resample::resample(&self.samples, self.rate, SPEECH_RATE), rate: SPEECH_RATE }
    }

    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.rate)
    }
}
