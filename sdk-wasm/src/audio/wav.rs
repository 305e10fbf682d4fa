//! RIFF/WAVE files: PCM 8/16/24/32-bit and IEEE float 32/64-bit, any channel count (mixed down
//! to mono). Every chunk size is checked against the file before it is read.

use super::Audio;
use crate::core::error::{Error, Result};

fn bad(detail: impl Into<String>) -> Error {
    Error::Audio(format!("WAV: {}", detail.into()))
}

const FORMAT_PCM: u16 = 1;
const FORMAT_FLOAT: u16 = 3;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

struct Format {
    code: u16,
    channels: u16,
    rate: u32,
    bits: u16,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn format(body: &[u8]) -> Result<Format> {
    if body.len() < 16 {
        return Err(bad(format!("the fmt chunk has {} bytes, needs 16", body.len())));
    }
    let mut code = u16_at(body, 0);
    if code == FORMAT_EXTENSIBLE {
        // The real format is the first two bytes of the sub-format GUID.
        if body.len() < 26 {
            return Err(bad("a WAVE_FORMAT_EXTENSIBLE fmt chunk without its sub-format"));
        }
        code = u16_at(body, 24);
    }
    Ok(Format { code, channels: u16_at(body, 2), rate: u32_at(body, 4), bits: u16_at(body, 14) })
}

/// One sample of `bits` at the start of `b`, scaled to [-1, 1].
fn decode(f: &Format, b: &[u8]) -> f32 {
    match (f.code, f.bits) {
        (FORMAT_PCM, 8) => (f32::from(b[0]) - 128.0) / 128.0,
        (FORMAT_PCM, 16) => f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0,
        (FORMAT_PCM, 24) => (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0,
        (FORMAT_PCM, 32) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0,
        (FORMAT_FLOAT, 32) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        (FORMAT_FLOAT, 64) => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32,
        _ => 0.0,
    }
}

/// The file's sound, mixed down to mono, at its own rate.
pub fn read(bytes: &[u8]) -> Result<Audio> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a RIFF/WAVE file"));
    }
    let (mut fmt, mut data) = (None, None);
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let (id, size) = (&bytes[at..at + 4], u32_at(bytes, at + 4) as usize);
        let body = bytes.get(at + 8..at + 8 + size).ok_or_else(|| {
            bad(format!(
                "chunk {:?} at byte {at} says {size} bytes, the file ends {} bytes after it",
                String::from_utf8_lossy(id),
                bytes.len() - at - 8
            ))
        })?;
        match id {
            b"fmt " => fmt = Some(format(body)?),
            b"data" => data = Some(body),
            _ => {}
        }
        at += 8 + size + size % 2; // chunks are word-aligned
    }
    let f = fmt.ok_or_else(|| bad("no fmt chunk"))?;
    let data = data.ok_or_else(|| bad("no data chunk"))?;
    let supported = matches!((f.code, f.bits), (FORMAT_PCM, 8 | 16 | 24 | 32) | (FORMAT_FLOAT, 32 | 64));
    if !supported {
        return Err(bad(format!("format {} with {} bits per sample is not PCM or float", f.code, f.bits)));
    }
    if f.channels == 0 {
        return Err(bad("zero channels"));
    }
    let frame = usize::from(f.channels) * usize::from(f.bits / 8);
    let frames = data.chunks_exact(frame);
    let samples =
        frames.map(|fr| fr.chunks_exact(usize::from(f.bits / 8)).map(|s| decode(&f, s)).sum::<f32>() / f32::from(f.channels)).collect();
    Audio::new(f.rate, samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit PCM WAV of `samples` at `rate` with `channels` (interleaved).
    pub fn wav16(rate: u32, channels: u16, samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut out = b"RIFF".to_vec();
        out.extend(((36 + data.len()) as u32).to_le_bytes());
        out.extend(b"WAVEfmt ");
        out.extend(16u32.to_le_bytes());
        out.extend(FORMAT_PCM.to_le_bytes());
        out.extend(channels.to_le_bytes());
        out.extend(rate.to_le_bytes());
        out.extend((rate * u32::from(channels) * 2).to_le_bytes());
        out.extend((channels * 2).to_le_bytes());
        out.extend(16u16.to_le_bytes());
        out.extend(b"data");
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn stereo_is_mixed_down_and_bad_files_say_what_is_wrong() {
        let audio = read(&wav16(8000, 2, &[16384, 0, -32768, -32768])).unwrap();
        assert_eq!((audio.rate, audio.samples.as_slice()), (8000, &[0.25, -1.0][..]));
        let whole = wav16(16000, 1, &[1, 2, 3, 4]);
        let err = read(&whole[..whole.len() - 3]).unwrap_err().to_string();
        assert!(err.contains("chunk \"data\"") && err.contains("says 8 bytes"), "{err}");
        assert!(read(b"ID3 not a wav file").unwrap_err().to_string().contains("not a RIFF/WAVE"));
        assert!(read(&wav16(16000, 1, &[])).unwrap_err().to_string().contains("empty"));
        assert!(read(&wav16(100, 1, &[1])).unwrap_err().to_string().contains("100 Hz is not audio"));
    }
}
