//! Decoding one window as CTranslate2's Whisper does: the logits rules (tokens the config
//! suppresses, and OpenAI's timestamp rules when timestamps are on), then beam search over
//! cumulative log-probabilities. Greedy decoding is the search with one beam.

use crate::core::error::{Error, Result};

/// How a window is decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoding {
    /// Hypotheses kept per step: 1 is greedy.
    pub beam: usize,
    /// Timestamp tokens mark where each piece of text starts and ends.
    pub timestamps: bool,
}

impl Default for Decoding {
    fn default() -> Self {
        Decoding { beam: 1, timestamps: false }
    }
}

/// More beams than this cost more than they find on a model this size.
pub const MAX_BEAM: usize = 16;

impl Decoding {
    pub fn check(&self) -> Result<()> {
        if !(1..=MAX_BEAM).contains(&self.beam) {
            return Err(Error::InvalidOption { option: "beam".into(), detail: format!("{} must be 1 (greedy) to {MAX_BEAM}", self.beam) });
        }
        Ok(())
    }
}

/// The timestamp tokens: `<|0.00|>` is `begin`, `<|30.00|>` is `end`, 0.02 s apart.
#[derive(Debug, Clone, Copy)]
pub(super) struct TimestampTokens {
    pub end_of_text: u32,
    pub no_timestamps: u32,
    pub begin: u32,
    pub end: u32,
    /// The first token may not be later than this (CTranslate2's `max_initial_timestamp_index`
    /// of 50: one second).
    pub max_initial: u32,
}

/// Seconds between two timestamp tokens.
pub const TIMESTAMP_STEP: f64 = 0.02;

/// What may be generated next, given the tokens generated so far.
pub(super) struct Rules<'a> {
    /// Never generated (the config's `suppress_ids`).
    pub suppress: &'a [u32],
    /// Not as the first token (`suppress_ids_begin`: a blank or an immediate end).
    pub suppress_begin: &'a [u32],
    pub timestamps: Option<TimestampTokens>,
}

fn forbid(logits: &mut [f32], ids: impl IntoIterator<Item = usize>) {
    for i in ids {
        if let Some(l) = logits.get_mut(i) {
            *l = f32::NEG_INFINITY;
        }
    }
}

fn log_sum_exp(values: &[f32]) -> f64 {
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    max as f64 + values.iter().map(|&v| ((v - max) as f64).exp()).sum::<f64>().ln()
}

impl Rules<'_> {
    /// `logits` of the next token after `generated`, turned into log-probabilities over the
    /// tokens the rules leave (the others are −∞).
    pub fn log_probs(&self, logits: &mut [f32], generated: &[u32]) {
        forbid(logits, self.suppress.iter().map(|&i| i as usize));
        if generated.is_empty() {
            forbid(logits, self.suppress_begin.iter().map(|&i| i as usize));
        }
        if let Some(t) = self.timestamps {
            t.apply(logits, generated);
        }
        let total = log_sum_exp(logits) as f32;
        for l in logits.iter_mut() {
            *l -= total;
        }
    }
}

impl TimestampTokens {
    fn is_timestamp(&self, token: u32) -> bool {
        token >= self.begin
    }

    /// OpenAI's rules, in CTranslate2's order: the text starts with a timestamp (at most
    /// `max_initial`); timestamps come in pairs (except before the end) and never decrease;
    /// and when the timestamps together are likelier than any one text token, a timestamp it is.
    fn apply(&self, logits: &mut [f32], generated: &[u32]) {
        let (begin, end) = (self.begin as usize, self.end as usize);
        forbid(logits, [self.no_timestamps as usize]);
        let check = match generated {
            [] => {
                forbid(logits, 0..begin);
                forbid(logits, self.max_initial as usize + 1..=end);
                false
            }
            [.., penultimate, last] if self.is_timestamp(*last) && self.is_timestamp(*penultimate) => {
                forbid(logits, begin..=end);
                false
            }
            [last] if self.is_timestamp(*last) => {
                forbid(logits, begin..=end);
                false
            }
            [.., last] if self.is_timestamp(*last) => {
                forbid(logits, 0..self.end_of_text as usize);
                forbid(logits, begin..*last as usize);
                true
            }
            _ => {
                if let Some(&last_time) = generated.iter().rev().find(|&&t| self.is_timestamp(t)) {
                    forbid(logits, begin..=last_time as usize);
                }
                true
            }
        };
        if check && begin <= logits.len() {
            let text_best = logits[..begin].iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            if log_sum_exp(&logits[begin..]) > text_best {
                forbid(logits, 0..begin);
            }
        }
    }

    /// Timed pieces of text in one window's tokens: `(start s, end s, text tokens)`. Text
    /// after the last timestamp ends at `window_seconds`.
    pub fn pieces(&self, tokens: &[u32], window_seconds: f64) -> Vec<(f64, f64, Vec<u32>)> {
        let time = |t: u32| f64::from(t - self.begin) * TIMESTAMP_STEP;
        let (mut out, mut start, mut text) = (Vec::new(), None::<f64>, Vec::new());
        for &t in tokens {
            if !self.is_timestamp(t) {
                text.push(t);
            } else if text.is_empty() {
                start = Some(time(t));
            } else {
                out.push((start.unwrap_or(0.0), time(t), std::mem::take(&mut text)));
                start = None;
            }
        }
        if !text.is_empty() {
            out.push((start.unwrap_or(0.0), window_seconds, text));
        }
        out
    }
}

/// One step of the search: the log-probabilities of each live hypothesis's next token
/// (`[hypotheses × vocab]`) after feeding the tokens chosen; `parents[b]` is the hypothesis
/// slot `b` continues from (the caller reorders its KV cache to match).
pub(super) trait Stepper {
    async fn next(&mut self, tokens: &[u32], parents: &[u32]) -> Result<Vec<f32>>;
}

/// A finished hypothesis: its tokens (without the end) and cumulative log-probability.
struct Finished {
    tokens: Vec<u32>,
    score: f32,
}

/// Beam search as CTranslate2 runs it: every step takes the best 2·beam continuations of all
/// live hypotheses; a continuation that ends is set aside and the next one that does not end
/// takes its slot; the search stops when `beam` hypotheses have ended or after `max_steps`
/// tokens, and the best by log-probability over length wins. `first` is the logits after the
/// prompt (all slots alike).
pub(super) async fn beam_search(
    rules: &Rules<'_>,
    beam: usize,
    end_of_text: u32,
    max_steps: usize,
    mut first: Vec<f32>,
    stepper: &mut impl Stepper,
) -> Result<Vec<u32>> {
    let vocab = first.len() / beam;
    // At the first step every slot holds the same prompt: only the first is expanded.
    first.truncate(vocab);
    let mut logits = first;
    let mut alive: Vec<(Vec<u32>, f32)> = vec![(Vec::new(), 0.0)];
    let mut finished: Vec<Finished> = Vec::new();
    let wanted = 2 * beam;
    for step in 0..max_steps {
        let mut candidates: Vec<(f32, usize, u32)> = Vec::with_capacity(wanted * alive.len());
        for (b, (tokens, score)) in alive.iter().enumerate() {
            let row = &mut logits[b * vocab..(b + 1) * vocab];
            rules.log_probs(row, tokens);
            candidates.extend(best(row, wanted).into_iter().map(|id| (score + row[id as usize], b, id)));
        }
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        candidates.truncate(wanted);
        let last_step = step + 1 == max_steps;
        let mut secondary = beam;
        let mut chosen = Vec::with_capacity(beam);
        for slot in 0..beam.min(candidates.len()) {
            let (score, parent, id) = candidates[slot];
            let mut pick = slot;
            if id == end_of_text || last_step {
                let mut tokens = alive[parent].0.clone();
                if id != end_of_text {
                    tokens.push(id);
                }
                finished.push(Finished { tokens, score });
                if let Some(j) = (secondary..candidates.len()).find(|&j| candidates[j].2 != end_of_text) {
                    pick = j;
                    secondary = j + 1;
                }
            }
            chosen.push(candidates[pick]);
        }
        if last_step || finished.len() >= beam || chosen.is_empty() {
            break;
        }
        // The stepper runs every slot; short of candidates, the last slots repeat the first.
        let mut parents: Vec<u32> = chosen.iter().map(|c| c.1 as u32).collect();
        let mut tokens: Vec<u32> = chosen.iter().map(|c| c.2).collect();
        parents.resize(beam, parents[0]);
        tokens.resize(beam, tokens[0]);
        alive = chosen
            .iter()
            .map(|&(score, parent, id)| {
                let mut t = alive[parent].0.clone();
                t.push(id);
                (t, score)
            })
            .collect();
        logits = stepper.next(&tokens, &parents).await?;
        logits.truncate(alive.len() * vocab);
    }
    // Log-probability over length (CTranslate2's length penalty of 1).
    let best = finished
        .into_iter()
        .map(|f| {
            let score = f.score / f.tokens.len() as f32;
            (if score.is_nan() { f32::NEG_INFINITY } else { score }, f.tokens)
        })
        .max_by(|a, b| a.0.total_cmp(&b.0));
    Ok(best.map(|(_, tokens)| tokens).unwrap_or_default())
}

/// The `n` tokens with the highest finite log-probabilities in `row`.
fn best(row: &[f32], n: usize) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..row.len() as u32).filter(|&i| row[i as usize].is_finite()).collect();
    if ids.len() > n {
        ids.select_nth_unstable_by(n - 1, |&a, &b| row[b as usize].total_cmp(&row[a as usize]));
        ids.truncate(n);
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TimestampTokens = TimestampTokens { end_of_text: 3, no_timestamps: 4, begin: 5, end: 9, max_initial: 6 };

    fn allowed(generated: &[u32], logits: &[f32]) -> Vec<usize> {
        let mut l = logits.to_vec();
        T.apply(&mut l, generated);
        (0..l.len()).filter(|&i| l[i].is_finite()).collect()
    }

    #[test]
    fn timestamp_rules_follow_openai() {
        let flat = [0.0f32; 10];
        // Text token 1 likelier than all timestamps together.
        let mut wordy = [0.0f32; 10];
        wordy[1] = 5.0;
        // First: a timestamp no later than max_initial.
        assert_eq!(allowed(&[], &flat), vec![5, 6]);
        // After a lone timestamp, or a pair: text (or the end), no timestamp.
        assert_eq!(allowed(&[5], &flat), vec![0, 1, 2, 3]);
        assert_eq!(allowed(&[5, 1, 7, 7], &flat), vec![0, 1, 2, 3]);
        // After text then a timestamp: its pair (not earlier) or the end…
        let mut ending = [0.0f32; 10];
        ending[3] = 5.0;
        assert_eq!(allowed(&[5, 1, 7], &ending), vec![3, 7, 8, 9]);
        // After text: text, or a timestamp later than the last one…
        assert_eq!(allowed(&[5, 1], &wordy), vec![0, 1, 2, 3, 6, 7, 8, 9]);
        // …and only timestamps when they are likelier together than any text token.
        assert_eq!(allowed(&[5, 1], &flat), vec![6, 7, 8, 9]);
        assert_eq!(allowed(&[5, 1, 7], &flat), vec![7, 8, 9]);
        // (text is never allowed there, however likely)
        assert_eq!(allowed(&[5, 1, 7], &wordy), vec![7, 8, 9]);
    }

    #[test]
    fn pieces_are_cut_at_timestamp_pairs() {
        let pieces = T.pieces(&[5, 1, 2, 7, 7, 0, 9], 30.0);
        assert_eq!(pieces, vec![(0.0, 0.04, vec![1, 2]), (0.04, 0.08, vec![0])]);
        assert_eq!(T.pieces(&[6, 1], 30.0), vec![(0.02, 30.0, vec![1])]);
    }

    #[test]
    fn a_beam_outside_1_to_16_is_refused_by_name() {
        let err = Decoding { beam: 0, timestamps: false }.check().unwrap_err().to_string();
        assert!(err.contains("beam"), "{err}");
    }
}
