//! Embeddings by input text, bounded by entry count, least recently used out first.

use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct EmbeddingCacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
    pub capacity: usize,
}

pub struct EmbeddingCache {
    capacity: usize,
    /// text → (embedding, last use tick)
    entries: HashMap<String, (Vec<f32>, u64)>,
    tick: u64,
    hits: u64,
    misses: u64,
}

impl EmbeddingCache {
    /// A cache of at most `capacity` embeddings (0 turns it off).
    pub fn new(capacity: usize) -> EmbeddingCache {
        EmbeddingCache { capacity, entries: HashMap::new(), tick: 0, hits: 0, misses: 0 }
    }

    pub fn get(&mut self, text: &str) -> Option<Vec<f32>> {
        self.tick += 1;
        match self.entries.get_mut(text) {
            Some((v, used)) => {
                *used = self.tick;
                self.hits += 1;
                Some(v.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    pub fn put(&mut self, text: &str, embedding: &[f32]) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(text) {
            if let Some(oldest) = self.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) {
                self.entries.remove(&oldest);
            }
        }
        self.tick += 1;
        self.entries.insert(text.to_string(), (embedding.to_vec(), self.tick));
    }

    pub fn stats(&self) -> EmbeddingCacheStats {
        EmbeddingCacheStats { hits: self.hits, misses: self.misses, entries: self.entries.len(), capacity: self.capacity }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_least_recently_used_with_counters() {
        let mut c = EmbeddingCache::new(2);
        c.put("a", &[1.0]);
        c.put("b", &[2.0]);
        assert_eq!(c.get("a"), Some(vec![1.0]));
        c.put("c", &[3.0]); // evicts b, the least recently used
        assert_eq!(c.get("b"), None);
        assert_eq!(c.get("c"), Some(vec![3.0]));
        assert_eq!(c.stats(), EmbeddingCacheStats { hits: 2, misses: 1, entries: 2, capacity: 2 });
        let mut off = EmbeddingCache::new(0);
        off.put("a", &[1.0]);
        assert_eq!(off.get("a"), None);
    }
}
