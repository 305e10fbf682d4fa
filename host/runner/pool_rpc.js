// Runner RPCs for the browser pool: embed with a model kept loaded in the page (loaded on
// first use, from IndexedDB when it is cached), and a liveness check.
import * as sdk from "/sdk/index.js";

const accelerators = new Map();
const models = new Map();

async function accelerator(device) {
  if (!accelerators.has(device)) accelerators.set(device, sdk.Accelerator.create({ prefer: [device] }));
  return accelerators.get(device);
}

let stallNextMs = 0;

/** Embed `texts` with the model at `url` on `device`. Concurrent requests share one load. */
async function poolEmbed(url, texts, { device = "cpu", weights } = {}) {
  if (stallNextMs > 0) {
    // A hung tab (fault injection): this request never answers in time.
    const ms = stallNextMs;
    stallNextMs = 0;
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
  const acc = await accelerator(device);
  const key = `${url}|${device}|${weights ?? ""}`;
  if (!models.has(key)) models.set(key, acc.load(url, { weights }));
  let model;
  try {
    model = await models.get(key);
  } catch (e) {
    models.delete(key);
    throw e;
  }
  const t0 = performance.now();
  const embeddings = await model.embed(texts);
  return { embeddings: embeddings.map((e) => Array.from(e)), embedMs: performance.now() - t0 };
}

/** Make this page's next poolEmbed hang for `ms` (fault injection). */
function poolStallNext(ms) {
  stallNextMs = ms;
  return true;
}

async function poolPing() {
  return { models: models.size, time: performance.now() };
}

export const poolRpc = { poolEmbed, poolPing, poolStallNext };
