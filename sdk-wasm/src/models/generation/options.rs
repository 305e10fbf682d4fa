//! The one check of generation options, shared by the JS API (`js/language_model.rs`), the
//! CLI (`accelerate run`) and `Generator::start`, so every front end refuses the same values
//! and names the option in its own spelling ([`OptionStyle`]).

use super::Sampling;
use crate::backend::Activations;
use crate::core::error::{Error, Result};
use crate::core::{DType, OptionStyle};

fn invalid(style: OptionStyle, field: &str, detail: String) -> Error {
    Error::InvalidOption { option: style.name(field), detail }
}

impl Sampling {
    /// Refuse values the sampler cannot use: a temperature below 0 or not finite, top-p
    /// outside (0, 1], a repetition penalty ≤ 0 or not finite (NaN fails every check).
    pub fn check(&self, style: OptionStyle) -> Result<()> {
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            let detail = format!("must be a finite number ≥ 0 (0 = greedy), got {}", self.temperature);
            return Err(invalid(style, "temperature", detail));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(invalid(style, "top_p", format!("must be in (0, 1] (1 = keep all), got {}", self.top_p)));
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty > 0.0) {
            let detail = format!("must be a finite number > 0 (1 = none), got {}", self.repetition_penalty);
            return Err(invalid(style, "repetition_penalty", detail));
        }
        Ok(())
    }
}

/// The KV cache precision named `name`: f32 (any device), q8_0, q4_1 or q2 (CPU).
pub fn kv_cache_dtype(name: &str, style: OptionStyle) -> Result<DType> {
    match name {
        "f32" => Ok(DType::F32),
        "q8_0" => Ok(DType::Q8_0),
        "q4_1" => Ok(DType::Q4_1),
        "q2" => Ok(DType::Q2),
        other => Err(invalid(style, "kv_cache", format!("expected f32, q8_0, q4_1 or q2, got {other:?}"))),
    }
}

/// The linear layers' input precision named `name`: f32, or int8 (CPU: 8-bit activations,
/// integer dot products).
pub fn activations_option(name: &str, style: OptionStyle) -> Result<Activations> {
    match name {
        "f32" => Ok(Activations::F32),
        "int8" => Ok(Activations::Int8),
        other => Err(invalid(style, "activations", format!("expected f32 or int8, got {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(s: Sampling, style: OptionStyle) -> String {
        s.check(style).expect_err("must be refused").to_string()
    }

    #[test]
    fn bad_sampling_values_are_refused_naming_the_option_in_each_style() {
        let d = Sampling::default();
        let cases = [
            (Sampling { temperature: -1.0, ..d.clone() }, "temperature", "--temperature", "-1"),
            (Sampling { temperature: f32::NAN, ..d.clone() }, "temperature", "--temperature", "NaN"),
            (Sampling { temperature: f32::INFINITY, ..d.clone() }, "temperature", "--temperature", "inf"),
            (Sampling { top_p: 2.0, ..d.clone() }, "topP", "--top-p", "2"),
            (Sampling { top_p: 0.0, ..d.clone() }, "topP", "--top-p", "0"),
            (Sampling { top_p: f32::NAN, ..d.clone() }, "topP", "--top-p", "NaN"),
            (Sampling { repetition_penalty: 0.0, ..d.clone() }, "repetitionPenalty", "--repetition-penalty", "0"),
            (Sampling { repetition_penalty: f32::NAN, ..d.clone() }, "repetitionPenalty", "--repetition-penalty", "NaN"),
        ];
        for (s, js, cli, value) in cases {
            let e = refusal(s.clone(), OptionStyle::Js);
            assert!(e.starts_with(&format!("{js}: ")) && e.contains(value), "{e}");
            let e = refusal(s, OptionStyle::Cli);
            assert!(e.starts_with(&format!("{cli}: ")) && e.contains(value), "{e}");
        }
        for ok in [d.clone(), Sampling { temperature: 0.7, top_p: 0.9, repetition_penalty: 1.1, top_k: 40, seed: 3 }] {
            ok.check(OptionStyle::Cli).unwrap();
        }
    }

    #[test]
    fn kv_cache_names() {
        assert_eq!(kv_cache_dtype("q4_1", OptionStyle::Cli).unwrap(), DType::Q4_1);
        let e = kv_cache_dtype("q5", OptionStyle::Js).unwrap_err().to_string();
        assert!(e.starts_with("kvCache: ") && e.contains("\"q5\""), "{e}");
    }

    #[test]
    fn activation_names() {
        assert_eq!(activations_option("int8", OptionStyle::Js).unwrap(), Activations::Int8);
        assert_eq!(activations_option("f32", OptionStyle::Cli).unwrap(), Activations::F32);
        let e = activations_option("int4", OptionStyle::Js).unwrap_err().to_string();
        assert!(e.starts_with("activations: ") && e.contains("\"int4\""), "{e}");
    }
}
