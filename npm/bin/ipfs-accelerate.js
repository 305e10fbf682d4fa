#!/usr/bin/env node
// `npx ipfs-accelerate manifest DIR [--name NAME] [--write]`: print (or write to
// DIR/manifest.json) the manifest the SDK verifies and caches a model by.
import { renameSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { manifestOf } from "./manifest.js";

const USAGE = "usage: ipfs-accelerate manifest DIR [--name NAME] [--write]";

function main(args) {
  const [command, ...rest] = args;
  if (command !== "manifest") throw new Error(USAGE);
  let dir;
  let name;
  let write = false;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "--write") write = true;
    else if (rest[i] === "--name" && i + 1 < rest.length) name = rest[++i];
    else if (!rest[i].startsWith("--") && dir === undefined) dir = rest[i];
    else throw new Error(`unexpected ${JSON.stringify(rest[i])}\n${USAGE}`);
  }
  if (dir === undefined) throw new Error(USAGE);
  const manifest = manifestOf(dir, name ?? basename(resolve(dir)));
  const text = JSON.stringify(manifest, null, 2);
  if (!write) {
    console.log(text);
    return;
  }
  // Written whole or not at all: a reader never sees half a manifest.
  const path = join(dir, "manifest.json");
  writeFileSync(`${path}.partial`, text);
  renameSync(`${path}.partial`, path);
  console.log(`wrote ${path} (${manifest.files.length} files)`);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(`ipfs-accelerate: ${e.message}`);
  process.exit(1);
}
