//! Choosing the next token from logits: greedy, or temperature + top-k + top-p with a
//! repetition penalty, from a seeded generator (the same seed gives the same text).

use crate::tensor::SeededRng;

#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// 0 = greedy (argmax).
    pub temperature: f32,
    /// Keep the k most likely tokens (0 = all).
    pub top_k: usize,
    /// Keep the smallest set whose probability reaches p (1 = all).
    pub top_p: f32,
    /// > 1 makes tokens already in the context less likely (CTRL's rule).
    pub repetition_penalty: f32,
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Sampling {
        Sampling { temperature: 0.0, top_k: 0, top_p: 1.0, repetition_penalty: 1.0, seed: 0 }
    }
}

pub struct Sampler {
    config: Sampling,
    rng: SeededRng,
}

impl Sampler {
    pub fn new(config: Sampling) -> Sampler {
        let rng = SeededRng::new(config.seed);
        Sampler { config, rng }
    }

    /// The next token id given `logits` and the ids seen so far.
    pub fn next(&mut self, logits: &mut [f32], context: &[u32]) -> u32 {
        let c = &self.config;
        if c.repetition_penalty != 1.0 {
            for &id in context {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l = if *l > 0.0 { *l / c.repetition_penalty } else { *l * c.repetition_penalty };
                }
            }
        }
        if c.temperature <= 0.0 {
            return argmax(logits);
        }
        let mut order: Vec<usize> = (0..logits.len()).collect();
        order.sort_unstable_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        if c.top_k > 0 {
            order.truncate(c.top_k);
        }
        let max = logits[order[0]];
        let mut probs: Vec<f32> = order.iter().map(|&i| ((logits[i] - max) / c.temperature).exp()).collect();
        let total: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
        let mut keep = probs.len();
        let mut cumulative = 0.0;
        for (i, p) in probs.iter().enumerate() {
            cumulative += p;
            if cumulative >= c.top_p {
                keep = i + 1;
                break;
            }
        }
        let kept: f32 = probs[..keep].iter().sum();
        let mut target = (self.rng.next_signed_unit() * 0.5 + 0.5) * kept; // uniform [0, kept)
        for (i, p) in probs[..keep].iter().enumerate() {
            target -= p;
            if target <= 0.0 {
                return order[i] as u32;
            }
        }
        order[keep - 1] as u32
    }
}

pub fn argmax(logits: &[f32]) -> u32 {
    logits.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best }).0 as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_top_k_and_seeds_behave() {
        let logits = vec![0.1, 3.0, 2.9, -1.0];
        assert_eq!(Sampler::new(Sampling::default()).next(&mut logits.clone(), &[]), 1);
        // A strong repetition penalty moves greedy off a token already seen.
        let penalised = Sampling { repetition_penalty: 2.0, ..Sampling::default() };
        assert_eq!(Sampler::new(penalised).next(&mut logits.clone(), &[1]), 2);
        // top-k 2 only ever returns the two best; a seed repeats its choices.
        let hot = Sampling { temperature: 1.0, top_k: 2, seed: 7, ..Sampling::default() };
        let draw = |cfg: &Sampling| {
            let mut s = Sampler::new(cfg.clone());
            (0..50).map(|_| s.next(&mut logits.clone(), &[])).collect::<Vec<_>>()
        };
        let a = draw(&hot);
        assert!(a.iter().all(|&t| t == 1 || t == 2) && a.contains(&1) && a.contains(&2), "{a:?}");
        assert_eq!(a, draw(&hot));
        // top-p that the best token alone reaches is greedy.
        let nucleus = Sampling { temperature: 0.1, top_p: 0.5, ..hot };
        assert!(draw(&nucleus).iter().all(|&t| t == 1));
    }
}
