//! Content ids in the IPFS form: CIDv1, raw codec, sha2-256 multihash, multibase base32
//! ("b…"). The same id names a file on any HTTP server, in our caches, or on an IPFS gateway
//! (`…/ipfs/<cid>`).

use crate::core::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fmt;

const CID_V1: u8 = 0x01;
const RAW_CODEC: u8 = 0x55;
const SHA2_256: u8 = 0x12;
const DIGEST_LEN: u8 = 32;
const BASE32_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The content id of some bytes: their sha-256, in CIDv1 form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid {
    digest: [u8; 32],
}

impl Cid {
    /// The id of `bytes`.
    pub fn of(bytes: &[u8]) -> Cid {
        let mut h = CidHasher::new();
        h.update(bytes);
        h.finish()
    }

    /// The id of a whole file: hashed by the platform where it can (WebCrypto in browsers),
    /// else here. Same id as `of`, faster for big files.
    pub async fn of_file(bytes: &[u8]) -> Cid {
        #[cfg(target_arch = "wasm32")]
        if let Some(digest) = super::web_digest::sha256(bytes).await {
            return Cid { digest };
        }
        Cid::of(bytes)
    }

    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Parse the base32 text form ("bafkrei…"); anything else is an error naming what was wrong.
    pub fn parse(text: &str) -> Result<Cid> {
        let bad = |why: &str| Error::Cid(format!("{text:?} is not a CIDv1 raw sha2-256 id: {why}"));
        let body = text.strip_prefix('b').ok_or_else(|| bad("expected the base32 multibase prefix 'b'"))?;
        let bytes = base32_decode(body).ok_or_else(|| bad("invalid base32"))?;
        match bytes.as_slice() {
            [CID_V1, RAW_CODEC, SHA2_256, DIGEST_LEN, digest @ ..] if digest.len() == 32 => {
                let mut d = [0u8; 32];
                d.copy_from_slice(digest);
                Ok(Cid { digest: d })
            }
            [CID_V1, codec, ..] if *codec != RAW_CODEC => Err(bad(&format!("codec 0x{codec:02x}, only raw (0x55) is used"))),
            _ => Err(bad("wrong version, hash function or length")),
        }
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = vec![CID_V1, RAW_CODEC, SHA2_256, DIGEST_LEN];
        bytes.extend_from_slice(&self.digest);
        write!(f, "b{}", base32_encode(&bytes))
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Cid, D::Error> {
        let text = String::deserialize(d)?;
        Cid::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Streaming hasher, for files that arrive (or are stored) in chunks.
#[derive(Clone, Default)]
pub struct CidHasher(Sha256);

impl CidHasher {
    pub fn new() -> CidHasher {
        CidHasher(Sha256::new())
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> Cid {
        Cid { digest: self.0.finalize().into() }
    }
}

/// RFC 4648 base32, lower case, no padding (the multibase "b" encoding).
fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32_ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32_ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = BASE32_ALPHABET.iter().position(|&a| a == c.to_ascii_lowercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero padding, fewer than one byte.
    (bits < 5 && buffer == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_ipfs_cid_of_known_content() {
        // The raw-leaf CIDv1 IPFS gives "hello world" (`ipfs add --cid-version 1`).
        assert_eq!(Cid::of(b"hello world").to_string(), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
        // The empty block's id, as every IPFS implementation prints it.
        assert_eq!(Cid::of(b"").to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    }

    #[test]
    fn parse_round_trips_and_rejects_other_forms() {
        let cid = Cid::of(b"weights");
        assert_eq!(Cid::parse(&cid.to_string()).ok(), Some(cid));
        for bad in ["", "zb2rh", "bafy", "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "bafkrei!!"] {
            let err = Cid::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("not a CIDv1"), "{bad:?}: {err}");
        }
        // A dag-pb CIDv1 (codec 0x70) is a valid CID but not one of ours: named as such.
        let err = Cid::parse("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi").err().map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("codec 0x70"));
    }
}
