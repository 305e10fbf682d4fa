//! One shard stage's part of a BERT model in a manifest: which slices of the weight file it
//! needs (the header, its layers' tensors, the embeddings' when it starts at layer 0), and,
//! once those are fetched and verified by their CIDs, the weights they make. Fetching is the
//! caller's (a `SliceFetcher` through the weight cache), so this runs the same everywhere.

use super::BertConfig;
use crate::core::error::{Error, Result};
use crate::store::{slice_path, ManifestSlice, ModelManifest, HEADER_SLICE};
use crate::weights::{Cid, SafeTensorsHeader, TensorSlices};
use std::collections::BTreeMap;
use std::ops::Range;

/// The slices a part needs, by manifest.
pub struct PartSlices<'m> {
    pub header: &'m ManifestSlice,
    pub tensors: Vec<&'m ManifestSlice>,
    /// Bytes of its tensors (what the stage will hold, before preparation).
    pub bytes: u64,
}

impl<'m> PartSlices<'m> {
    /// The slices of `weights` (a .safetensors file of `manifest`) that layers `layers` read.
    pub fn of(manifest: &'m ModelManifest, weights: &str, config: &BertConfig, layers: &Range<usize>) -> Result<PartSlices<'m>> {
        config.check_part(layers)?;
        let header = manifest.slice(weights, HEADER_SLICE)?;
        let tensors: Vec<&ManifestSlice> =
            config.part_weights(layers).iter().map(|(name, _)| manifest.slice(weights, name)).collect::<Result<_>>()?;
        let bytes = tensors.iter().map(|s| s.size).sum();
        Ok(PartSlices { header, tensors, bytes })
    }

    /// Every slice to fetch, header first.
    pub fn all(&self) -> Vec<&'m ManifestSlice> {
        std::iter::once(self.header).chain(self.tensors.iter().copied()).collect()
    }

    /// The weights out of the fetched slices (`files` by [`slice_path`], each already verified
    /// against its CID), checked against the header; and the content ids of its f32 tensors —
    /// their slices' CIDs, the same bytes — so loading hashes nothing again.
    pub fn weights(
        &self,
        manifest: &ModelManifest,
        files: &mut BTreeMap<String, Vec<u8>>,
    ) -> Result<(TensorSlices, BTreeMap<String, Cid>)> {
        let mut take =
            |s: &ManifestSlice| files.remove(&slice_path(s)).ok_or_else(|| Error::Model(format!("{} was not fetched", slice_path(s))));
        let head = parse_header(&take(self.header)?, manifest, self.header)?;
        let (mut bytes, mut ids) = (BTreeMap::new(), BTreeMap::new());
        for s in &self.tensors {
            let info = head.tensors.get(&s.name).ok_or_else(|| disagree(&s.name, "the header lists no such tensor"))?;
            if (head.data_offset + info.start) as u64 != s.offset || (info.end - info.start) as u64 != s.size {
                return Err(disagree(&s.name, "they give different byte ranges"));
            }
            if info.dtype == "F32" {
                ids.insert(s.name.clone(), s.cid);
            }
            bytes.insert(s.name.clone(), take(s)?);
        }
        Ok((TensorSlices::new(head, bytes)?, ids))
    }
}

fn disagree(name: &str, why: &str) -> Error {
    Error::Model(format!("the manifest and the weight file's header disagree about {name:?}: {why}"))
}

/// The header slice, parsed; it must be exactly the file's header.
fn parse_header(bytes: &[u8], manifest: &ModelManifest, header: &ManifestSlice) -> Result<SafeTensorsHeader> {
    let file_size = manifest.file(&header.file)?.size;
    let data_len = usize::try_from(file_size.saturating_sub(header.size)).map_err(|_| disagree(HEADER_SLICE, "file too large"))?;
    let head = SafeTensorsHeader::parse(bytes, data_len)?;
    if head.data_offset as u64 != header.size || header.offset != 0 {
        return Err(disagree(HEADER_SLICE, "the header slice is not the file's header"));
    }
    Ok(head)
}
