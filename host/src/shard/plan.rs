//! Splitting a model's layers into contiguous ranges, one per shard, balanced by cost.

use std::ops::Range;

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
    use super::balanced;

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
