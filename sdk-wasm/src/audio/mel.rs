//! Whisper's log-mel spectrogram, as OpenAI's `log_mel_spectrogram` computes it: the audio
//! followed by 30 s of silence, a centred (reflect-padded) STFT with a 400-sample periodic Hann
//! window and a 160-sample hop, the power of bins 0..=200 (the last frame dropped), 80 Slaney
//! mel filters up to 8 kHz, log10 floored at 1e-10, then at the maximum − 8, scaled (x + 4)/4.
//! The DFT and the filter bank are two matmuls through the engine's CPU kernels.

use super::{Audio, SPEECH_RATE};
use crate::core::error::{Error, Result};
use crate::ops;
use crate::tensor::Tensor;
use std::f64::consts::PI;
use std::sync::OnceLock;

pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
pub const N_MELS: usize = 80;
/// Frames in a 30-second window.
pub const WINDOW_FRAMES: usize = 3000;
const BINS: usize = N_FFT / 2 + 1;

/// Slaney-style mel filters [N_MELS][BINS] (librosa's `mel(sr=16000, n_fft=400, n_mels=80)`).
fn filters() -> Vec<f64> {
    let fft_freq = |k: usize| k as f64 * f64::from(SPEECH_RATE) / N_FFT as f64;
    let max_mel = 45.245_640_471_924_965; // mel(8000 Hz) on the Slaney scale
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let log_step = 6.4f64.ln() / 27.0;
    let freqs: Vec<f64> = (0..N_MELS + 2)
        .map(|i| {
            let mel = max_mel * i as f64 / (N_MELS + 1) as f64;
            if mel >= min_log_mel {
                min_log_hz * (log_step * (mel - min_log_mel)).exp()
            } else {
                f_sp * mel
            }
        })
        .collect();
    let mut out = vec![0.0; N_MELS * BINS];
    for m in 0..N_MELS {
        let norm = 2.0 / (freqs[m + 2] - freqs[m]);
        for k in 0..BINS {
            let lower = (fft_freq(k) - freqs[m]) / (freqs[m + 1] - freqs[m]);
            let upper = (freqs[m + 2] - fft_freq(k)) / (freqs[m + 2] - freqs[m + 1]);
            out[m * BINS + k] = lower.min(upper).max(0.0) * norm;
        }
    }
    out
}

/// The filter bank as the right-hand side of `power [frames, BINS] · [BINS, N_MELS]`.
fn filters_transposed() -> Vec<f32> {
    let f = filters();
    let mut t = vec![0.0f32; BINS * N_MELS];
    for m in 0..N_MELS {
        for k in 0..BINS {
            t[k * N_MELS + m] = f[m * BINS + k] as f32;
        }
    }
    t
}

/// The windowed real DFT as a matrix [N_FFT, 2·BINS]: cos and −sin columns per bin.
fn dft_basis() -> Vec<f32> {
    let mut basis = vec![0.0f32; N_FFT * 2 * BINS];
    for n in 0..N_FFT {
        let window = 0.5 - 0.5 * (2.0 * PI * n as f64 / N_FFT as f64).cos();
        for k in 0..BINS {
            let angle = 2.0 * PI * ((n * k) % N_FFT) as f64 / N_FFT as f64;
            basis[n * 2 * BINS + 2 * k] = (window * angle.cos()) as f32;
            basis[n * 2 * BINS + 2 * k + 1] = (-window * angle.sin()) as f32;
        }
    }
    basis
}

/// The log-mel features of the first 30 s of `audio` (16 kHz), time-major: [3000, 80].
pub async fn log_mel(audio: &Audio) -> Result<Vec<f32>> {
    if audio.rate != SPEECH_RATE {
        return Err(Error::Audio(format!("the log-mel spectrogram takes 16 kHz audio, got {} Hz (resample first)", audio.rate)));
    }
    let x = &audio.samples;
    // The audio, then silence: index i of the padded signal (reflected at the start).
    let at = |i: isize| -> f32 {
        let i = if i < 0 { -i } else { i } as usize;
        x.get(i).copied().unwrap_or(0.0)
    };
    let mut frames = Vec::with_capacity(WINDOW_FRAMES * N_FFT);
    for t in 0..WINDOW_FRAMES {
        let start = (t * HOP) as isize - (N_FFT / 2) as isize;
        frames.extend((0..N_FFT as isize).map(|n| at(start + n)));
    }
    // Both matrices depend on nothing but the constants: built once per process.
    static BASIS: OnceLock<Vec<f32>> = OnceLock::new();
    static FILTERS_T: OnceLock<Vec<f32>> = OnceLock::new();
    let basis = Tensor::from_vec(BASIS.get_or_init(dft_basis).clone(), [N_FFT, 2 * BINS])?;
    let spectra = ops::matmul(&Tensor::from_vec(frames, [WINDOW_FRAMES, N_FFT])?, &basis).await?.to_vec().await?;
    let power: Vec<f32> = spectra.chunks_exact(2).map(|c| c[0] * c[0] + c[1] * c[1]).collect();
    let filters_t = Tensor::from_vec(FILTERS_T.get_or_init(filters_transposed).clone(), [BINS, N_MELS])?;
    let mel = ops::matmul(&Tensor::from_vec(power, [WINDOW_FRAMES, BINS])?, &filters_t).await?.to_vec().await?;
    let mut log: Vec<f32> = mel.iter().map(|&v| v.max(1e-10).log10()).collect();
    // Frames past the window (the rest of the 30 s of silence) would be log10(1e-10) = −10.
    let max = log.iter().copied().fold(-10.0f32, f32::max);
    log.iter_mut().for_each(|v| *v = (v.max(max - 8.0) + 4.0) / 4.0);
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_librosa_at_known_points() {
        let f = filters();
        // Each filter is a triangle: non-negative, one peak; Slaney normalisation keeps the
        // area (in Hz) near 1 for the linear part: 2/(f[m+2]−f[m]) · width/2 · 1.
        assert!(f.iter().all(|&w| w >= 0.0));
        let area: f64 = (0..BINS).map(|k| f[5 * BINS + k] * 40.0).sum();
        assert!((area - 1.0).abs() < 0.1, "filter 5's area {area}");
        assert_eq!(f[..BINS].iter().filter(|&&w| w > 0.0).count(), 1, "the first filter covers one bin at 40 Hz resolution");
    }
}
