// A model directory's manifest, written by Node alone: the same JSON as the host's
// `accelerate manifest` (every top-level file's CID and size; for each .safetensors file its
// header and every tensor as a byte range with its own CID), so hosting a model needs no Rust.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** RFC 4648 base32, lower case, no padding (multibase "b"). */
function base32(bytes) {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const b of bytes) {
    buffer = ((buffer << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** CIDv1, raw codec, sha2-256, base32: the id the SDK verifies every file against. */
export function cidOf(bytes) {
  const digest = createHash("sha256").update(bytes).digest();
  return "b" + base32(Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), digest]));
}

const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The header and tensors of a safetensors file, each a slice with its CID. */
function safetensorsSlices(file, bytes) {
  const fail = (why) => {
    throw new Error(`${file}: not a safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes, too short for a header`);
  const headerLength = bytes.readBigUInt64LE(0);
  if (headerLength > BigInt(100 << 20)) fail(`header length ${headerLength} is absurd`);
  const dataOffset = 8 + Number(headerLength);
  if (dataOffset > bytes.length) fail(`the header needs ${headerLength} bytes, the file has ${bytes.length - 8}`);
  let header;
  try {
    header = JSON.parse(bytes.subarray(8, dataOffset).toString("utf8"));
  } catch (e) {
    fail(`the header is not JSON (${e.message})`);
  }
  const slice = (name, from, to) => ({ file, name, cid: cidOf(bytes.subarray(from, to)), offset: from, size: to - from });
  const out = [slice("__header__", 0, dataOffset)];
  for (const name of Object.keys(header).filter((n) => n !== "__metadata__").sort(byBytes)) {
    const [start, end] = header[name]?.data_offsets ?? [];
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start > end || dataOffset + end > bytes.length) {
      fail(`tensor ${JSON.stringify(name)} has data_offsets outside the file`);
    }
    out.push(slice(name, dataOffset + start, dataOffset + end));
  }
  return out;
}

/** The manifest of `dir` under `name`. */
export function manifestOf(dir, name) {
  const names = readdirSync(dir)
    .filter((n) => !n.startsWith(".") && n !== "manifest.json" && statSync(join(dir, n)).isFile())
    .sort(byBytes);
  const files = [];
  const slices = [];
  for (const path of names) {
    const bytes = readFileSync(join(dir, path));
    if (path.endsWith(".safetensors")) slices.push(...safetensorsSlices(path, bytes));
    files.push({ path, cid: cidOf(bytes), size: bytes.length });
  }
  // The version follows the files' ids, so it changes whenever any file does (the tail: every
  // id starts with the same "bafkrei").
  const id = cidOf(Buffer.from(files.map((f) => f.cid).join("")));
  const manifest = { name, version: id.slice(-12), files };
  if (slices.length > 0) manifest.slices = slices;
  return manifest;
}
