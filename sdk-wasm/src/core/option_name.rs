//! How a front end spells an option, so one validator's messages name the option the way the
//! caller wrote it: `top_p` (Rust), `topP` (the JS API), `--top-p` (the CLI).

/// The spelling of option names in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionStyle {
    /// Rust field names: `repetition_penalty`.
    Rust,
    /// The npm package's camelCase: `repetitionPenalty`.
    Js,
    /// Command-line flags: `--repetition-penalty`.
    Cli,
}

impl OptionStyle {
    /// `field` (a Rust snake_case name) in this style.
    pub fn name(self, field: &str) -> String {
        match self {
            OptionStyle::Rust => field.to_string(),
            OptionStyle::Cli => format!("--{}", field.replace('_', "-")),
            OptionStyle::Js => {
                let mut out = String::with_capacity(field.len());
                let mut upper = false;
                for c in field.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OptionStyle;

    #[test]
    fn each_style_spells_a_field() {
        assert_eq!(OptionStyle::Rust.name("repetition_penalty"), "repetition_penalty");
        assert_eq!(OptionStyle::Js.name("repetition_penalty"), "repetitionPenalty");
        assert_eq!(OptionStyle::Cli.name("repetition_penalty"), "--repetition-penalty");
        assert_eq!(OptionStyle::Js.name("temperature"), "temperature");
    }
}
