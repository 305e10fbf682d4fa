// Runner RPCs for the weight cache and shared-tensor tests and the cache benchmark. Each uses
// the public API; `corruptChunk` writes to the real IndexedDB directly, as disk damage would.
import * as sdk from "/sdk/index.js";

const DB = "ipfs-accelerate-weights";

/**
 * Load `url` through a fresh Accelerator, embed `texts`, dispose. Options: prefer, cache
 * ({name, maxBytes}), weights, pooling, gateway, abortAfterBytes (abort the weights download
 * once this many bytes arrived), tamper (a file whose CID is replaced by another's in the
 * manifest), keep (leave the model loaded, for in-use tests), remoteHost (where `org/name`
 * model ids resolve).
 */
async function cacheLoad(url, { prefer = ["cpu"], cache = { name: DB }, weights, pooling, gateway, abortAfterBytes, tamper, texts = [], keep = false, remoteHost } = {}) {
  if (remoteHost) sdk.env.remoteHost = new URL(remoteHost, location.href).href;
  const acc = await sdk.Accelerator.create({ prefer, cache });
  const origins = {};
  const controller = new AbortController();
  const options = { weights, pooling, gateway, signal: controller.signal };
  options.onProgress = (p) => {
    origins[p.file] = p.origin;
    if (abortAfterBytes !== undefined && p.loaded >= abortAfterBytes && p.file === (weights ?? "model.safetensors")) controller.abort();
  };
  if (tamper) {
    const manifest = await (await fetch(new URL("manifest.json", new URL(url, location.href)))).json();
    const victim = manifest.files.find((f) => f.path === tamper);
    victim.cid = manifest.files.find((f) => f.path !== tamper).cid;
    options.manifest = manifest;
  }
  const t0 = performance.now();
  let model;
  try {
    model = await acc.load(url, options);
  } catch (e) {
    const state = await cacheState(acc);
    acc.dispose();
    return { error: String(e && e.message || e), origins, cache: state };
  }
  const loadMs = performance.now() - t0;
  const embeddings = (await model.embed(texts)).map((e) => Array.from(e));
  const result = {
    name: model.name, report: model.loadReport, loadMs, origins, embeddings, memory: await acc.memory(), cache: await cacheState(acc),
    adapter: acc.adapter, userAgent: navigator.userAgent,
  };
  if (keep) window.__kept = [...(window.__kept || []), acc];
  else acc.dispose();
  return result;
}

async function cacheState(acc) {
  return { list: await acc.cache.list(), usage: await acc.cache.usage(), disabledReason: acc.cache.disabledReason };
}

/** Replace one stored chunk with garbage of the same length, in the real IndexedDB. */
async function corruptChunk(cid, index, dbName = DB) {
  const db = await new Promise((resolve, reject) => {
    const open = indexedDB.open(dbName);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const key = `${cid}/${String(index).padStart(8, "0")}`;
  const tx = db.transaction("chunks", "readwrite");
  const store = tx.objectStore("chunks");
  const chunk = await new Promise((resolve, reject) => {
    const get = store.get(key);
    get.onsuccess = () => resolve(get.result);
    get.onerror = () => reject(get.error);
  });
  if (!chunk) throw new Error(`no chunk ${key}`);
  // Stored as a Blob (a store written by an older version: a Uint8Array); garbage of the same kind.
  const length = chunk instanceof Blob ? chunk.size : chunk.length;
  const bad = new Uint8Array(length).fill(0x5a);
  store.put(chunk instanceof Blob ? new Blob([bad]) : bad, key);
  await new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  return length;
}

/**
 * Start loading `url` and reload the page once `afterBytes` of the weights have arrived (as a
 * user closing or refreshing the tab would). Resolves before the reload, with how far it got.
 */
async function reloadDuringLoad(url, afterBytes) {
  const acc = await sdk.Accelerator.create({ prefer: ["cpu"], cache: { name: DB } });
  return new Promise((resolve, reject) => {
    let reloading = false;
    const onProgress = (p) => {
      if (reloading || p.file !== "model.safetensors" || p.loaded < afterBytes) return;
      reloading = true;
      resolve({ reloadingAt: p.loaded });
      // Let the reply reach WebDriver first.
      setTimeout(() => location.reload(), 20);
    };
    acc.load(url, { onProgress }).then(() => reject(new Error("the load finished before the reload")), reject);
  });
}

/** Dispose every Accelerator a `keep: true` load left alive. */
function releaseKept() {
  for (const acc of window.__kept || []) acc.dispose();
  window.__kept = [];
}

/**
 * Memory of one model, then the same model loaded again with other pooling, through one
 * Accelerator; then after disposing each. Embeddings of `text` under both poolings.
 */
async function sharedMemory(url, { prefer = ["cpu"], text = "shared weights" } = {}) {
  const acc = await sdk.Accelerator.create({ prefer, cache: false });
  const mean = await acc.load(url, { pooling: "mean" });
  const [meanVector] = await mean.embed([text]);
  const one = await acc.memory();
  const cls = await acc.load(url, { pooling: "cls" });
  const [clsVector] = await cls.embed([text]);
  const two = await acc.memory();
  mean.dispose();
  const afterFirst = await acc.memory();
  cls.dispose();
  const afterBoth = await acc.memory();
  acc.dispose();
  // The same two models without sharing: one Accelerator (registry) each.
  const separate = [await sdk.Accelerator.create({ prefer, cache: false }), await sdk.Accelerator.create({ prefer, cache: false })];
  const models = [await separate[0].load(url, { pooling: "mean" }), await separate[1].load(url, { pooling: "cls" })];
  await models[0].embed([text]);
  await models[1].embed([text]);
  const unsharedBytes = (await Promise.all(separate.map((a) => a.memory()))).reduce((sum, m) => sum + m.totalBytes, 0);
  for (const a of separate) a.dispose();
  return { device: acc.device, adapter: acc.adapter, one, two, afterFirst, afterBoth, unsharedBytes, mean: Array.from(meanVector), cls: Array.from(clsVector) };
}

/**
 * Embed `texts` `rounds` times with the embedding cache on (`entries`) or off (0): ms per
 * round. The first `fresh` texts of each round are made new (a round number in front, never
 * seen before), the rest repeat.
 */
async function embeddingCacheRounds(url, texts, { prefer = ["cpu"], entries = 1024, rounds = 5, fresh = 0 } = {}) {
  const acc = await sdk.Accelerator.create({ prefer, cache: { name: DB } });
  const model = await acc.load(url, { embeddingCache: entries });
  const ms = [];
  for (let i = 0; i < rounds; i++) {
    const batch = texts.map((t, j) => (j < fresh ? `${i} ${t}` : t));
    const t = performance.now();
    await model.embed(batch);
    ms.push(performance.now() - t);
  }
  const stats = await model.cacheStats();
  acc.dispose();
  return { ms, stats };
}

async function persistCache(dbName = DB) {
  const acc = await sdk.Accelerator.create({ prefer: ["cpu"], cache: { name: dbName } });
  const granted = await acc.cache.persist();
  acc.dispose();
  return granted;
}

async function clearCache(dbName = DB) {
  const acc = await sdk.Accelerator.create({ prefer: ["cpu"], cache: { name: dbName } });
  await acc.cache.clear();
  const usage = await acc.cache.usage();
  acc.dispose();
  return usage;
}

export const cacheRpc = { cacheLoad, corruptChunk, reloadDuringLoad, releaseKept, sharedMemory, embeddingCacheRounds, clearCache, persistCache };
