//! Checksums of a stored file's chunks (xxh3, 64 bits), taken from bytes that had just passed
//! the file's CID check. A later load compares each chunk it reads back against its checksum
//! instead of hashing the whole file with SHA-256 again (90 MB: ~5 ms in wasm SIMD against
//! ~140 ms for `crypto.subtle.digest`); a mismatch falls back to the full check.
//!
//! Why that is enough: what hashing a stored copy again can catch is damage: a disk or browser
//! fault, a truncated or misplaced chunk, a bug of ours. A 64-bit checksum per chunk misses
//! such damage with odds of 2⁻⁶⁴. Hashing on load would not stop forgery either: whoever can
//! rewrite this origin's IndexedDB can also rewrite the profile's cached scripts, which do the
//! hashing.

use super::blob_store::CHUNK_BYTES;

/// The checksum of each `CHUNK_BYTES` piece of `bytes`, in order.
pub fn of_chunks(bytes: &[u8]) -> Vec<u64> {
    bytes.chunks(CHUNK_BYTES as usize).map(of_chunk).collect()
}

pub fn of_chunk(chunk: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(chunk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sum_per_chunk_and_any_changed_byte_changes_its_chunks_sum() {
        let mut bytes: Vec<u8> = (0..CHUNK_BYTES as usize * 2 + 5).map(|i| (i * 31 % 251) as u8).collect();
        let sums = of_chunks(&bytes);
        assert_eq!(sums.len(), 3);
        assert_eq!(sums[2], of_chunk(&bytes[CHUNK_BYTES as usize * 2..]));
        for at in [0, 12_345, CHUNK_BYTES as usize - 1, CHUNK_BYTES as usize * 2 + 4] {
            bytes[at] ^= 0x10;
            let changed = of_chunks(&bytes);
            let chunk = at / CHUNK_BYTES as usize;
            for (i, (a, b)) in sums.iter().zip(&changed).enumerate() {
                assert_eq!(a == b, i != chunk, "flipped byte {at}: chunk {i}");
            }
            bytes[at] ^= 0x10;
        }
        // Chunks swapped, or one zeroed, are caught too.
        let (first, second) = bytes.split_at(CHUNK_BYTES as usize);
        assert_ne!(of_chunk(first), of_chunk(&second[..CHUNK_BYTES as usize]));
        assert_ne!(sums[0], of_chunk(&vec![0u8; CHUNK_BYTES as usize]));
    }
}
