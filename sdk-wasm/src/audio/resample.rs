//! Sample-rate conversion by windowed-sinc interpolation: each output sample is the input
//! convolved with a Hann-windowed sinc whose cut-off is the lower of the two Nyquist rates, so
//! going down in rate low-passes first (no aliasing) and going up adds no images.

use std::f64::consts::PI;

/// Zero crossings of the sinc on each side of the centre, at the filter's cut-off.
const HALF_WIDTH: f64 = 16.0;

/// `x` at `from` Hz resampled to `to` Hz.
pub fn resample(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    let ratio = f64::from(to) / f64::from(from);
    let cutoff = ratio.min(1.0); // of the input's Nyquist
    let reach = HALF_WIDTH / cutoff; // input samples on each side
    let len = (x.len() as f64 * ratio).round() as usize;
    (0..len)
        .map(|n| {
            let centre = n as f64 / ratio;
            let first = (centre - reach).ceil().max(0.0) as usize;
            let last = ((centre + reach).floor() as usize).min(x.len().saturating_sub(1));
            let (mut sum, mut weights) = (0.0f64, 0.0f64);
            for (i, &v) in x.iter().enumerate().take(last + 1).skip(first) {
                let t = i as f64 - centre;
                let window = 0.5 + 0.5 * (PI * t / reach).cos();
                let arg = PI * t * cutoff;
                let sinc = if arg.abs() < 1e-12 { 1.0 } else { arg.sin() / arg };
                let w = window * sinc * cutoff;
                sum += w * f64::from(v);
                weights += w;
            }
            // Normalised by the weights' sum: a constant stays constant, near the edges too.
            if weights.abs() > 1e-12 {
                (sum / weights) as f32
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, seconds: f64) -> Vec<f32> {
        (0..(f64::from(rate) * seconds) as usize).map(|i| (2.0 * PI * freq * i as f64 / f64::from(rate)).sin() as f32).collect()
    }

    #[test]
    fn a_tone_keeps_its_pitch_and_loudness_and_one_above_the_new_nyquist_is_removed() {
        let out = resample(&tone(440.0, 44_100, 0.5), 44_100, 16_000);
        assert_eq!(out.len(), 8000);
        let want = tone(440.0, 16_000, 0.5);
        let worst = out[200..7800].iter().zip(&want[200..7800]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 0.01, "440 Hz after 44.1 → 16 kHz differs by {worst}");
        let alias = resample(&tone(12_000.0, 48_000, 0.5), 48_000, 16_000);
        let rms = (alias[200..7800].iter().map(|v| v * v).sum::<f32>() / 7600.0).sqrt();
        assert!(rms < 0.01, "12 kHz must not alias into 16 kHz audio: rms {rms}");
        let up = resample(&tone(440.0, 8_000, 0.5), 8_000, 16_000);
        let worst = up[200..7800].iter().zip(&want[200..7800]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(worst < 0.01, "8 → 16 kHz differs by {worst}");
    }
}
