//! Splitting a model's layers into contiguous ranges, one per shard: balanced by cost, or
//! packed into as few stages as a per-stage weight budget allows.

use crate::error::{HostError, Result};
use ipfs_accelerate::models::bert::BertConfig;
use ipfs_accelerate::weights::SafeTensorsHeader;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

/// Bytes of a BERT model's weights by part: what each stage fetches and holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PartSizes {
    /// The embedding tables and their norm (held by the stage that starts at layer 0).
    pub embeddings: u64,
    pub layers: Vec<u64>,
}

impl PartSizes {
    /// Read from `dir/config.json` and the header of `dir/model.safetensors` (the tensors
    /// themselves are not read).
    pub fn of_dir(dir: &Path) -> Result<PartSizes> {
        let io = |what: &str, e: std::io::Error| HostError::Invalid(format!("{}: {what}: {e}", dir.display()));
        let model_err = |e: ipfs_accelerate::Error| HostError::Invalid(format!("{}: {e}", dir.display()));
        let config = std::fs::read_to_string(dir.join("config.json")).map_err(|e| io("config.json", e))?;
        let config = BertConfig::from_json(&config).map_err(model_err)?;
        let mut file = std::fs::File::open(dir.join("model.safetensors")).map_err(|e| io("model.safetensors", e))?;
        let file_len = file.metadata().map_err(|e| io("model.safetensors", e))?.len();
        let mut head = vec![0u8; 8];
        file.read_exact(&mut head).map_err(|e| io("model.safetensors", e))?;
        let data_offset = SafeTensorsHeader::length(&head).map_err(model_err)?;
        head.resize(data_offset, 0);
        file.read_exact(&mut head[8..]).map_err(|e| io("model.safetensors header", e))?;
        let data_len = usize::try_from(file_len.saturating_sub(data_offset as u64)).unwrap_or(usize::MAX);
        let header = SafeTensorsHeader::parse(&head, data_len).map_err(model_err)?;
        let bytes = |layers: Range<usize>| -> Result<u64> {
            config
                .part_weights(&layers)
                .iter()
                .map(|(name, _)| {
                    let info =
                        header.tensors.get(name).ok_or_else(|| HostError::Invalid(format!("{}: no tensor {name}", dir.display())))?;
                    Ok((info.end - info.start) as u64)
                })
                .sum()
        };
        let embeddings = bytes(0..0)?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| Ok(bytes(i..i + 1)? - if i == 0 { embeddings } else { 0 }))
            .collect::<Result<Vec<u64>>>()?;
        Ok(PartSizes { embeddings, layers })
    }

    /// Weight bytes of the stage serving `layers`.
    pub fn stage_bytes(&self, layers: &Range<usize>) -> u64 {
        let own: u64 = self.layers.get(layers.clone()).map_or(0, |l| l.iter().sum());
        own + if layers.start == 0 { self.embeddings } else { 0 }
    }

    pub fn total(&self) -> u64 {
        self.stage_bytes(&(0..self.layers.len()))
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// As few stages as hold every layer with no stage's weights over `budget`, in layer order.
/// The first stage holds the embeddings and at least layer 0 (a range starting at 0 is what
/// says a stage holds the embeddings). An error names the part that does not fit.
pub fn within_budget(sizes: &PartSizes, budget: u64) -> Result<Vec<Range<usize>>> {
    let too_big = |what: String, bytes: u64| {
        HostError::Invalid(format!("{what} alone need {} of weights, over the {} stage budget", mib(bytes), mib(budget)))
    };
    let first = sizes.embeddings + sizes.layers.first().copied().unwrap_or(0);
    if first > budget {
        return Err(too_big("the embeddings and layer 0 (the first stage's least)".into(), first));
    }
    let (mut ranges, mut start, mut used) = (Vec::new(), 0, sizes.embeddings);
    for (i, &bytes) in sizes.layers.iter().enumerate() {
        if bytes > budget {
            return Err(too_big(format!("layer {i}"), bytes));
        }
        if used + bytes > budget {
            ranges.push(start..i);
            (start, used) = (i, 0);
        }
        used += bytes;
    }
    ranges.push(start..sizes.layers.len());
    Ok(ranges)
}

/// Every stage of `plan` within `budget`, or an error naming the first that is not.
pub fn check_budget(sizes: &PartSizes, plan: &[Range<usize>], budget: u64) -> Result<()> {
    match plan.iter().find(|r| sizes.stage_bytes(r) > budget) {
        Some(r) => Err(HostError::Invalid(format!(
            "the stage serving layers {r:?} needs {} of weights, over the {} stage budget (fewest stages that fit: {})",
            mib(sizes.stage_bytes(r)),
            mib(budget),
            within_budget(sizes, budget).map_or_else(|e| e.to_string(), |p| p.len().to_string())
        ))),
        None => Ok(()),
    }
}

/// `k` contiguous ranges covering all layers, each as close as possible to an equal share of
/// the total `cost` (e.g. parameter bytes or measured milliseconds per layer). Never an empty
/// range: `k` is capped at the number of layers.
pub fn balanced(cost: &[f64], k: usize) -> Vec<Range<usize>> {
    let n = cost.len();
    let k = k.clamp(1, n.max(1));
    let total: f64 = cost.iter().sum();
    let mut ranges = Vec::with_capacity(k);
    let (mut start, mut acc) = (0, 0.0);
    for (i, c) in cost.iter().enumerate() {
        acc += c;
        let remaining_shards = k - ranges.len() - 1;
        let remaining_layers = n - i - 1;
        let target = total * (ranges.len() + 1) as f64 / k as f64;
        // Close a shard at its share, or when the rest need exactly one layer each.
        if remaining_shards > 0 && (acc >= target - 1e-9 || remaining_layers == remaining_shards) {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    ranges.push(start..n);
    ranges
}

#[cfg(test)]
mod tests {
    use super::{balanced, check_budget, within_budget, PartSizes};

    #[test]
    fn a_budget_packs_layers_into_the_fewest_stages_and_names_what_cannot_fit() {
        let sizes = PartSizes { embeddings: 45, layers: vec![7; 6] };
        assert_eq!(sizes.total(), 87);
        let whole = within_budget(&sizes, 100).unwrap();
        assert_eq!((whole.len(), whole[0].clone()), (1, 0..6), "one stage holds it all");
        // The embeddings nearly fill the first stage: it holds them and layer 0.
        assert_eq!(within_budget(&sizes, 52).unwrap(), [0..1, 1..6]);
        assert_eq!(within_budget(&sizes, 59).unwrap(), [0..2, 2..6]);
        let err = within_budget(&sizes, 51).unwrap_err().to_string();
        assert!(err.contains("embeddings and layer 0"), "{err}");
        let err = within_budget(&PartSizes { embeddings: 1, layers: vec![1, 9, 1] }, 5).unwrap_err().to_string();
        assert!(err.contains("layer 1"), "{err}");
        assert!(check_budget(&sizes, &[0..1, 1..6], 52).is_ok());
        let err = check_budget(&sizes, &[0..3, 3..6], 52).unwrap_err().to_string();
        assert!(err.contains("0..3") && err.contains("fewest stages that fit: 2"), "{err}");
    }

    #[test]
    fn equal_layers_split_evenly_and_costly_ones_get_fewer_companions() {
        assert_eq!(balanced(&[1.0; 6], 2), [0..3, 3..6]);
        assert_eq!(balanced(&[1.0; 6], 3), [0..2, 2..4, 4..6]);
        assert_eq!(balanced(&[1.0; 6], 4), [0..2, 2..3, 3..5, 5..6]);
        assert_eq!(balanced(&[4.0, 1.0, 1.0, 1.0, 1.0], 2), [0..1, 1..5]);
        assert_eq!(balanced(&[1.0; 2], 5), [0..1, 1..2], "no empty shard");
        let whole = balanced(&[1.0; 3], 1);
        assert_eq!((whole.len(), whole[0].clone()), (1, 0..3));
    }
}
