//! Slices of files as files of their own: a manifest slice (one tensor's byte range) is
//! fetched with a range request of its file, verified against its own CID and cached under it,
//! exactly like a whole file. A shard stage loads only its layers this way.

use super::fetch::{ByteStream, Fetcher};
use super::manifest::{ManifestFile, ManifestSlice, ModelManifest};
use crate::core::error::{Error, Result};
use std::collections::BTreeMap;

/// The path a slice goes by in a derived manifest: `file#tensor`.
pub fn slice_path(slice: &ManifestSlice) -> String {
    format!("{}#{}", slice.file, slice.name)
}

/// Reads slices out of the files `parent` serves.
pub struct SliceFetcher<'a, F> {
    parent: &'a F,
    /// By slice path: the file it lies in and where it starts.
    slices: BTreeMap<String, (ManifestFile, u64)>,
}

impl<'a, F: Fetcher> SliceFetcher<'a, F> {
    /// The manifest named `name` whose files are `slices` of `manifest`, and the fetcher that
    /// reads them through `parent`.
    pub fn over(parent: &'a F, manifest: &ModelManifest, slices: &[&ManifestSlice], name: String) -> Result<(ModelManifest, Self)> {
        let mut files = Vec::with_capacity(slices.len());
        let mut by_path = BTreeMap::new();
        for s in slices {
            let path = slice_path(s);
            files.push(ManifestFile { path: path.clone(), cid: s.cid, size: s.size });
            by_path.insert(path, (manifest.file(&s.file)?.clone(), s.offset));
        }
        let derived = ModelManifest { name, version: manifest.version.clone(), files, slices: Vec::new() };
        Ok((derived, SliceFetcher { parent, slices: by_path }))
    }
}

pub struct SliceStream<S> {
    inner: Option<S>,
    /// Bytes the parent sent before the slice (a server that ignored the range).
    skip: u64,
    /// Bytes of the slice still to hand out.
    left: u64,
    starts_at: u64,
}

impl<F: Fetcher> Fetcher for SliceFetcher<'_, F> {
    type Stream = SliceStream<F::Stream>;

    async fn open(&self, file: &ManifestFile, from: u64) -> Result<Self::Stream> {
        let (parent_file, offset) =
            self.slices.get(&file.path).ok_or_else(|| Error::Model(format!("{:?} is not a slice this fetcher knows", file.path)))?;
        let left = file.size.saturating_sub(from);
        if left == 0 {
            return Ok(SliceStream { inner: None, skip: 0, left, starts_at: from });
        }
        let start = offset + from;
        let inner = self.parent.open_range(parent_file, start, offset + file.size).await?;
        let at = inner.starts_at();
        if at > start {
            let url = self.parent.describe(parent_file);
            return Err(Error::Fetch { url, detail: format!("asked for bytes from {start}, the answer starts at {at}") });
        }
        Ok(SliceStream { inner: Some(inner), skip: start - at, left, starts_at: from })
    }

    fn describe(&self, file: &ManifestFile) -> String {
        match self.slices.get(&file.path) {
            Some((parent, offset)) => format!("{} bytes {offset}..{} ({})", self.parent.describe(parent), offset + file.size, file.path),
            None => file.path.clone(),
        }
    }
}

impl<S: ByteStream> ByteStream for SliceStream<S> {
    fn starts_at(&self) -> u64 {
        self.starts_at
    }

    async fn next(&mut self) -> Result<Option<Vec<u8>>> {
        let Some(inner) = self.inner.as_mut() else { return Ok(None) };
        while self.left > 0 {
            let Some(mut piece) = inner.next().await? else { return Ok(None) };
            let len = piece.len() as u64;
            if self.skip >= len {
                self.skip -= len;
                continue;
            }
            piece.drain(..self.skip as usize);
            self.skip = 0;
            piece.truncate(self.left.min(piece.len() as u64) as usize);
            self.left -= piece.len() as u64;
            return Ok(Some(piece));
        }
        Ok(None)
    }
}
