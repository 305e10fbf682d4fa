//! A weight file's tensor ids hashed before the model is built, all together. Built one by one,
//! each tensor is hashed in wasm (~340 MB/s here); hashed ahead, the F32 tensors' raw bytes
//! (the same bytes the build would hash) go to the platform's SHA-256: in the browser
//! `crypto.subtle.digest`, native code off the wasm thread, ~2× faster for a 90 MB file.

use super::TensorIds;
use crate::weights::{Cid, SafeTensors};
use futures_util::future::join_all;

/// Bytes handed to the platform at once: enough to keep it busy, a bound on the copies held.
const BATCH_BYTES: usize = 16 << 20;

/// Fill `ids` with the ids of `source`'s F32 tensors it lacks (other dtypes are left to the build).
pub async fn hash_f32_tensors_ahead(source: &SafeTensors<'_>, ids: &TensorIds) {
    let missing: Vec<(String, &[u8])> = {
        let known = ids.lock().unwrap_or_else(|p| p.into_inner());
        source.names().filter(|n| !known.contains_key(*n)).filter_map(|n| Some((n.to_string(), source.f32_bytes(n)?))).collect()
    };
    let mut batch = Vec::new();
    let mut batch_bytes = 0;
    for (i, (_, bytes)) in missing.iter().enumerate() {
        batch.push(i);
        batch_bytes += bytes.len();
        if batch_bytes >= BATCH_BYTES || i + 1 == missing.len() {
            let cids = join_all(batch.iter().map(|&j| Cid::of_file(missing[j].1))).await;
            let mut known = ids.lock().unwrap_or_else(|p| p.into_inner());
            for (&j, cid) in batch.iter().zip(cids) {
                known.insert(missing[j].0.clone(), cid);
            }
            batch.clear();
            batch_bytes = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_ahead_equal_the_ids_the_build_computes() {
        let header = r#"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]}}"#;
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend_from_slice(header.as_bytes());
        for v in [1.0f32, -2.0, 3.5, f32::from_bits(0x7fc0_0001)] {
            file.extend_from_slice(&v.to_le_bytes());
        }
        file.extend_from_slice(&[0, 0x3c, 0, 0xc0]);
        let st = SafeTensors::parse(&file).unwrap_or_else(|e| panic!("{e}"));
        let ids = TensorIds::default();
        pollster::block_on(hash_f32_tensors_ahead(&st, &ids));
        let ahead = ids.lock().map(|m| m.clone()).unwrap_or_default();
        assert_eq!(ahead.keys().collect::<Vec<_>>(), ["w"], "only F32 tensors are hashed ahead");
        // What `ModelTensors::content_id` hashes: the decoded f32 values' bytes.
        let w = st.tensor("w").unwrap_or_else(|e| panic!("{e}"));
        let values = w.cpu_contiguous().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ahead["w"], Cid::of(bytemuck::cast_slice(&values)));
    }
}
