//! Byte counts as people write them on a command line: `50000000`, `48MiB`, `1.5GB`.

use crate::error::{HostError, Result};

/// Parse `text`: a number with an optional unit (B, kB/MB/GB powers of 1000, KiB/MiB/GiB
/// powers of 1024; case-insensitive).
pub fn parse_byte_size(text: &str) -> Result<u64> {
    let bad = || HostError::Invalid(format!("{text:?} is not a byte size (e.g. 48MiB, 50MB, 50000000)"));
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes > u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_byte_size;

    #[test]
    fn units_and_bad_input() {
        assert_eq!(parse_byte_size("1000").unwrap(), 1000);
        assert_eq!(parse_byte_size("48MiB").unwrap(), 48 << 20);
        assert_eq!(parse_byte_size("1.5 GB").unwrap(), 1_500_000_000);
        assert_eq!(parse_byte_size("2kib").unwrap(), 2048);
        for bad in ["", "MiB", "12 parsecs", "-5MB", "1e999"] {
            assert!(parse_byte_size(bad).is_err(), "{bad}");
        }
    }
}
