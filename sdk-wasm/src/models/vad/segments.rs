//! Speech segments from chunk probabilities, following silero's `get_speech_timestamps`:
//! speech starts at a chunk at or above `threshold`, ends after `min_silence_ms` below
//! `threshold − 0.15`; segments shorter than `min_speech_ms` are dropped, and each is padded
//! by `speech_pad_ms` (split evenly where two would overlap).

use super::CHUNK;
use crate::core::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SegmentOptions {
    pub threshold: f32,
    pub min_speech_ms: u32,
    pub min_silence_ms: u32,
    pub speech_pad_ms: u32,
}

impl Default for SegmentOptions {
    /// silero-vad 6's defaults.
    fn default() -> Self {
        SegmentOptions { threshold: 0.5, min_speech_ms: 250, min_silence_ms: 100, speech_pad_ms: 30 }
    }
}

impl SegmentOptions {
    pub fn check(&self) -> Result<()> {
        if !(self.threshold > 0.15 && self.threshold < 1.0) {
            return Err(Error::InvalidOption { option: "threshold".into(), detail: format!("{} must be in (0.15, 1)", self.threshold) });
        }
        Ok(())
    }
}

/// A stretch of speech, in seconds from the start of the audio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
}

/// Segments of a clip of `samples` samples at `rate` Hz whose chunks had `probabilities`.
pub fn segments(probabilities: &[f32], samples: usize, rate: u32, o: &SegmentOptions) -> Result<Vec<Segment>> {
    o.check()?;
    let per_ms = f64::from(rate) / 1000.0;
    let (min_speech, min_silence, pad) = (
        (f64::from(o.min_speech_ms) * per_ms) as usize,
        (f64::from(o.min_silence_ms) * per_ms) as usize,
        (f64::from(o.speech_pad_ms) * per_ms) as usize,
    );
    let negative = o.threshold - 0.15;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let (mut start, mut silence_from) = (None::<usize>, None::<usize>);
    for (i, &p) in probabilities.iter().enumerate() {
        let at = i * CHUNK;
        if p >= o.threshold {
            silence_from = None;
            if start.is_none() {
                start = Some(at);
            }
            continue;
        }
        if let (Some(s), true) = (start, p < negative) {
            let quiet = *silence_from.get_or_insert(at);
            if at - quiet >= min_silence {
                if quiet - s > min_speech {
                    spans.push((s, quiet));
                }
                (start, silence_from) = (None, None);
            }
        }
    }
    if let Some(s) = start.filter(|&s| samples - s > min_speech) {
        spans.push((s, samples));
    }
    // Pad each segment; where the gap to the next is under two pads, meet in the middle.
    for i in 0..spans.len() {
        if i == 0 {
            spans[0].0 = spans[0].0.saturating_sub(pad);
        }
        if i + 1 < spans.len() {
            let gap = spans[i + 1].0 - spans[i].1;
            let (grow, shrink) = if gap < 2 * pad { (gap / 2, gap / 2) } else { (pad, pad) };
            spans[i].1 = (spans[i].1 + grow).min(samples);
            spans[i + 1].0 = spans[i + 1].0.saturating_sub(shrink);
        } else {
            spans[i].1 = (spans[i].1 + pad).min(samples);
        }
    }
    let seconds = |s: usize| s as f64 / f64::from(rate);
    Ok(spans.into_iter().map(|(s, e)| Segment { start: seconds(s), end: seconds(e) }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_blips_are_dropped_and_a_brief_dip_does_not_split_speech() {
        let mut p = vec![0.0f32; 100];
        p[10..40].iter_mut().for_each(|v| *v = 0.9); // ~1 s of speech
        p[20] = 0.1; // one quiet chunk (32 ms) inside it
        p[60..62].iter_mut().for_each(|v| *v = 0.9); // 64 ms: too short
        let s = segments(&p, 100 * CHUNK, 16_000, &SegmentOptions::default()).unwrap();
        assert_eq!(s.len(), 1, "{s:?}");
        assert!((s[0].start - (10.0 * 512.0 - 480.0) / 16_000.0).abs() < 1e-9, "{s:?}");
        let err = segments(&p, 100, 16_000, &SegmentOptions { threshold: 1.5, ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains("threshold"), "{err}");
    }
}
