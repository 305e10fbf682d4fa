// The page the host drives over WebDriver. It loads the npm package's entry (/sdk/index.js,
// which loads the real wasm build) and exposes a small RPC surface on window.__accelerate;
// every call resolves to JSON-serialisable data.
import * as sdk from "/sdk/index.js";
import * as bench from "/sdk/bench.js";
import { benchEmbeddings } from "/engines.js";
import { cacheRpc } from "/cache_rpc.js";
import { poolRpc } from "/pool_rpc.js";
import { shardRpc } from "/shard_rpc.js";
import { llmRpc } from "/llm_rpc.js";
import { visionRpc } from "/vision_rpc.js";
import { audioRpc } from "/audio_rpc.js";
import { pipelineRpc } from "/pipeline_rpc.js";
import { reactRpc } from "/react_rpc.js";
import { webnnRpc } from "/webnn_rpc.js";

// Feature probes: the smallest valid module using one feature, built here so the bytes explain
// themselves. Type section: one func () -> v128; one function; a body of `ops`.
function moduleReturningV128(ops) {
  const body = [0 /* no locals */, ...ops, 0x0b /* end */];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
    10, body.length + 2, 1, body.length, ...body]);
}
const V128_CONST = [0xfd, 0x0c, ...new Array(16).fill(0)];
const WASM_SIMD = moduleReturningV128(V128_CONST);
// f32x4.relaxed_madd (0xfd 0x105) on three constants.
const WASM_RELAXED_SIMD = moduleReturningV128([...V128_CONST, ...V128_CONST, ...V128_CONST, 0xfd, 0x85, 0x02]);

async function probeWebGpu() {
  if (!("gpu" in navigator)) return { present: false, reason: "navigator.gpu is missing" };
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return { present: true, available: false, reason: "requestAdapter() returned null" };
    const info = adapter.info || {};
    const limits = {};
    for (const key of ["maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize",
      "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX", "maxComputeWorkgroupsPerDimension"]) {
      limits[key] = adapter.limits[key];
    }
    return {
      present: true, available: true,
      vendor: info.vendor || "", architecture: info.architecture || "", device: info.device || "",
      description: info.description || "", isFallbackAdapter: !!(info.isFallbackAdapter || adapter.isFallbackAdapter),
      features: [...adapter.features].sort(), limits,
    };
  } catch (e) {
    return { present: true, available: false, reason: String(e && e.message || e) };
  }
}

// Present, a default context, and per deviceType whether a tiny graph really runs (webnn_rpc.js).
async function probeWebNn() {
  const { present, reason, devices } = await webnnRpc.webnnDevices();
  if (!present) return { present: false, context: false, reason, devices };
  const fallback = devices.find((d) => d.deviceType === "default") || {};
  return { present: true, context: !!fallback.context, reason: fallback.reason ?? null, devices };
}

async function probeStorage() {
  try {
    const { quota, usage } = await navigator.storage.estimate();
    return { indexedDb: "indexedDB" in self, quotaBytes: quota ?? null, usageBytes: usage ?? null };
  } catch (e) {
    return { indexedDb: "indexedDB" in self, quotaBytes: null, reason: String(e) };
  }
}

const ready = sdk.init();

// Load a model through the public API, embed `texts`, free it. Times are performance.now() ms.
// `{threads, relaxedSimd}` from the host (JSON null for "not given") as the API's options.
function engineOptions({ threads, relaxedSimd } = {}) {
  return { threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined };
}

async function embedWithApi(baseUrl, texts, { prefer = ["cpu"], threads, relaxedSimd, maxTokens, weights, quantize, repeats = 0 } = {}) {
  const t0 = performance.now();
  const acc = await sdk.Accelerator.create({ prefer, ...engineOptions({ threads, relaxedSimd }) });
  const progress = [];
  const model = await acc.load(baseUrl, { maxTokens, weights, quantize, onProgress: (p) => progress.push(p) });
  const t1 = performance.now();
  try {
    const embeddings = await model.embed(texts);
    const t2 = performance.now();
    // Warm calls, for benchmarks: the first call above is the cold one.
    const warmMs = [];
    for (let i = 0; i < repeats; i++) {
      const s = performance.now();
      await model.embed(texts);
      warmMs.push(performance.now() - s);
    }
    return {
      device: acc.device, info: acc.info(), adapter: acc.adapter, skipped: acc.skipped, dimensions: model.dimensions, maxTokens: model.maxTokens,
      embeddings: embeddings.map((e) => Array.from(e)), loadMs: t1 - t0, embedMs: t2 - t1, warmMs,
      progress: {
        events: progress.length, files: [...new Set(progress.map((p) => p.file))], phases: [...new Set(progress.map((p) => p.phase))],
        last: progress.at(-1) ?? null,
      },
    };
  } finally {
    acc.dispose();
  }
}

// Main-thread tasks longer than 50 ms (the Long Tasks API) while `body` runs: with the
// engine in its Worker, loading and inference must leave the page responsive.
async function longTasksDuring(body) {
  if (!PerformanceObserver.supportedEntryTypes?.includes("longtask")) return { supported: false };
  const tasks = [];
  const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => ({ name: e.name, ms: e.duration }))));
  observer.observe({ type: "longtask" });
  const result = await body();
  // Entries arrive asynchronously: give the observer a moment before stopping it.
  await new Promise((resolve) => setTimeout(resolve, 200));
  observer.disconnect();
  return { supported: true, tasks, result };
}

// Per-op CPU time of `repeats` warm embeds (after one warm-up), for `threads`.
async function profileEmbed(baseUrl, texts, { threads, relaxedSimd, repeats = 3, weights, maxTokens, quantize } = {}) {
  const acc = await sdk.Accelerator.create({ prefer: ["cpu"], threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined });
  try {
    const model = await acc.load(baseUrl, { weights, maxTokens, embeddingCache: 0, quantize: quantize ?? undefined });
    await model.embed(texts);
    const t0 = performance.now();
    await bench.profileBegin({ threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined });
    for (let i = 0; i < repeats; i++) await model.embed(texts);
    const ops = await bench.profileTake({ threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined });
    return { info: acc.info(), repeats, totalMs: performance.now() - t0, ops };
  } finally {
    acc.dispose();
  }
}

// Per-op CPU time of `tokens` greedy decode steps (after a warm-up generation), for `threads`.
async function profileGenerate(baseUrl, prompt, { threads, relaxedSimd, tokens = 16, activations } = {}) {
  const engine = { threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined };
  const acc = await sdk.Accelerator.create({ prefer: ["cpu"], ...engine });
  try {
    const model = await acc.loadLanguageModel(baseUrl);
    const options = { maxTokens: tokens, stopAtEos: false, activations };
    await model.generate(prompt, options);
    const t0 = performance.now();
    await bench.profileBegin(engine);
    const result = await model.generate(prompt, options);
    const ops = await bench.profileTake(engine);
    return { info: acc.info(), result, totalMs: performance.now() - t0, ops };
  } finally {
    acc.dispose();
  }
}

// Differs on every load of the page: how a caller knows a reload has happened.
const PAGE_ID = `${performance.timeOrigin}-${Math.random().toString(36).slice(2)}`;

window.__accelerate = {
  ready,
  pageId: () => PAGE_ID,
  async probe() {
    await ready;
    return {
      userAgent: navigator.userAgent,
      sdkVersion: await sdk.version(),
      cpuFlavour: await sdk.cpuFlavour(),
      hardwareConcurrency: navigator.hardwareConcurrency || null,
      webgpu: await probeWebGpu(),
      webnn: await probeWebNn(),
      wasm: {
        simd: WebAssembly.validate(WASM_SIMD),
        relaxedSimd: WebAssembly.validate(WASM_RELAXED_SIMD),
        threads: typeof SharedArrayBuffer === "function" && self.crossOriginIsolated === true,
        crossOriginIsolated: self.crossOriginIsolated === true,
      },
      storage: await probeStorage(),
    };
  },
  deviceInfo: (device, engine) => bench.deviceInfo(device, engineOptions(engine)),
  embedWithApi,
  benchEmbeddings,
  profileEmbed,
  profileGenerate,
  // Long tasks while MiniLM loads and embeds, or SmolLM2 loads and generates (cold: nothing cached).
  longTasksDuringEmbed: (baseUrl, texts) => longTasksDuring(async () => (await embedWithApi(baseUrl, texts)).dimensions),
  // The control: a deliberate busy loop on the main thread must show up.
  longTasksDuringBusyLoop: (ms) => longTasksDuring(async () => {
    const end = performance.now() + ms;
    while (performance.now() < end);
    return ms;
  }),
  longTasksDuringGenerate: (baseUrl, prompt, maxTokens) =>
    longTasksDuring(async () => (await llmRpc.generateWithApi(baseUrl, prompt, { maxTokens, stopAtEos: false })).result?.tokens.length ?? null),
  ...cacheRpc,
  ...poolRpc,
  ...shardRpc,
  ...llmRpc,
  ...visionRpc,
  ...audioRpc,
  ...pipelineRpc,
  ...reactRpc,
  ...webnnRpc,
  // A module's source run as a page script would run it (docs/guide.md's blocks): `import …
  // from "ipfs-accelerate"` resolves through the page's import map; resolves to what it logged.
  async runModule(source) {
    const logged = [];
    const log = console.log;
    console.log = (...args) => (logged.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")), log(...args));
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    try {
      await import(url);
      return logged;
    } finally {
      console.log = log;
      URL.revokeObjectURL(url);
    }
  },
  // The message a failing load/embed rejects with (null if it succeeded), for error tests.
  async errorOf(baseUrl, texts, options) {
    try {
      await embedWithApi(baseUrl, texts, options);
      return null;
    } catch (e) {
      return { name: e && e.name, message: String(e && e.message || e) };
    }
  },
  async runKernelCase(caseJson, device, engine) {
    let kernelCase;
    try {
      kernelCase = JSON.parse(caseJson);
    } catch (e) {
      throw new Error(`invalid case JSON: ${e.message}`);
    }
    return bench.runKernelCase(kernelCase, device, engineOptions(engine));
  },
};
