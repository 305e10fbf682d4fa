// The engine: the SDK in the thread that runs it. The package's entry (index.js) runs this
// module in a dedicated Worker and proxies to it (worker.js), so the page's main thread never
// computes; it also works as is inside a worker of your own.
//
// Four wasm builds sit beside it (`cargo xtask build-wasm`): pkg/ (SIMD, one thread),
// pkg-relaxed/ (+ relaxed SIMD: fused multiply-add), pkg-threads/ and pkg-threads-relaxed/
// (the same over a pool of Web Workers sharing the module's memory). The threaded ones need a
// cross-origin isolated page (COOP: same-origin + COEP: require-corp) and a worker (waiting on
// atomics is not allowed on a page's main thread); relaxed SIMD needs a browser that validates
// it. The best that runs is loaded, and `info()` says which and why.

let sdk = null;
let ready = null;
let loaded = null;

/** Each build, imported by its own literal path so bundlers see all four. */
const BUILDS = {
  simd: () => import("./pkg/ipfs_accelerate.js"),
  relaxed: () => import("./pkg-relaxed/ipfs_accelerate.js"),
  threads: () => import("./pkg-threads/ipfs_accelerate.js"),
  "threads-relaxed": () => import("./pkg-threads-relaxed/ipfs_accelerate.js"),
};

// The smallest module with a shared memory (memory section: one memory, flags 3 = shared with
// a maximum, 1 page each): it validates only where wasm threads exist.
const WASM_SHARED_MEMORY = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 3, 1, 1]);
// One function () -> v128 whose body is f32x4.relaxed_madd (0xfd 0x85 0x02) of three zero
// constants: it validates only where relaxed SIMD exists.
const V128_ZERO = [0xfd, 0x0c, ...new Array(16).fill(0)];
const RELAXED_BODY = [0, ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02, 0x0b];
const WASM_RELAXED_SIMD = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
  10, RELAXED_BODY.length + 2, 1, RELAXED_BODY.length, ...RELAXED_BODY]);

/** Why the threaded build cannot run here, or null when it can. */
function threadsUnavailableReason() {
  if (!self.crossOriginIsolated) return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  if (typeof SharedArrayBuffer !== "function") return "SharedArrayBuffer is missing";
  if (!WebAssembly.validate(WASM_SHARED_MEMORY)) return "this browser does not validate wasm shared memory";
  if (typeof self.document !== "undefined") return "the threaded build runs only in a Worker (a page's main thread may not wait on atomics)";
  return null;
}

/**
 * Load and instantiate one wasm build (idempotent: the first call decides). `threads`: the pool
 * size (default: every core); 1, or a place where threads cannot run, loads a one-thread
 * build, and `info().threadsUnavailable` says why. `relaxedSimd: false` keeps to plain SIMD.
 * `wasm` overrides where the one-thread SIMD module is loaded from (and implies it).
 */
export function init({ threads, wasm, relaxedSimd } = {}) {
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    return Promise.reject(new TypeError("threads must be a whole number ≥ 1"));
  }
  ready ??= loadBuild(threads, wasm, relaxedSimd);
  return ready;
}

async function loadBuild(threads, wasm, relaxedSimd) {
  const cores = self.navigator?.hardwareConcurrency || 1;
  const wanted = threads ?? cores;
  let reason = wasm !== undefined ? "a wasm module was given (the one-thread build)" : wanted <= 1 ? "one thread was asked for" : threadsUnavailableReason();
  const relaxed = wasm === undefined && relaxedSimd !== false && WebAssembly.validate(WASM_RELAXED_SIMD);
  if (reason === null) {
    for (const build of relaxed ? ["threads-relaxed", "threads"] : ["threads"]) {
      try {
        const module = await BUILDS[build]();
        await module.default();
        await module.initThreadPool(wanted);
        sdk = module;
        loaded = { build, threads: module.cpuThreads(), threadsUnavailable: null };
        return;
      } catch (e) {
        reason = `the threaded build did not start: ${messageOf(e)}`;
      }
    }
  }
  const build = relaxed ? "relaxed" : "simd";
  const module = await BUILDS[build]();
  await module.default(wasm === undefined ? undefined : { module_or_path: wasm });
  sdk = module;
  loaded = { build, threads: 1, threadsUnavailable: reason };
}

/**
 * Which build runs and why: `{ build: "threads-relaxed" | "threads" | "relaxed" | "simd",
 * threads, threadsUnavailable (null or the reason), cpuFlavour, crossOriginIsolated }`.
 */
export async function info() {
  await init();
  return { ...loaded, cpuFlavour: sdk.cpuFlavour(), crossOriginIsolated: self.crossOriginIsolated === true };
}

export async function version() {
  await init();
  return sdk.version();
}

/** Which CPU kernels this build runs ("wasm-simd128" when SIMD is compiled in). */
export async function cpuFlavour() {
  await init();
  return sdk.cpuFlavour();
}

/** Adapter facts for "cpu" or "webgpu" (includes `software: true` for CPU-emulated GPUs). */
export async function deviceInfo(device) {
  await init();
  return JSON.parse(await sdk.deviceInfo(device));
}

/** Run one kernel benchmark case on "cpu" or "webgpu"; see KernelCase in index.d.ts. */
export async function runKernelCase(kernelCase, device) {
  await init();
  return JSON.parse(await sdk.runKernelCase(JSON.stringify(kernelCase), device));
}

/** Devices the SDK can open; WebNN only where the browser has a WebNN backend. */
const KNOWN_DEVICES = ["webgpu", "webnn", "cpu"];
/** What `create` tries when not told: WebNN is opt-in (`prefer: ["webnn", …]`). */
const DEVICES = ["webgpu", "cpu"];
/** IndexedDB database that holds cached weights, unless `cache: {name}` says otherwise. */
const DEFAULT_CACHE_DB = "ipfs-accelerate-weights";

/** Entry point: picks a device, loads models onto it, caches their weights by content id. */
export class Accelerator {
  #runtime;
  #device;
  #adapter;
  #skipped;
  #models = new Set();
  #disposed = false;
  #cache;

  constructor(runtime, device, adapter, skipped) {
    this.#runtime = runtime;
    this.#device = device;
    this.#adapter = adapter;
    this.#skipped = skipped;
    this.#cache = new WeightCache(runtime);
  }

  /**
   * The first usable device of `prefer` (default ["webgpu", "cpu"]). A device that is not
   * available is skipped, and why is kept in `skipped`. `cache`: true (default), false, or
   * `{ name, maxBytes }` — the IndexedDB database and a bound below the browser's quota.
   */
  static async create({ prefer = DEVICES, wasm, threads, relaxedSimd, cache = true } = {}) {
    if (!Array.isArray(prefer) || prefer.length === 0) throw new TypeError('prefer must be a non-empty array, e.g. ["webgpu", "cpu"]');
    for (const device of prefer) {
      if (!KNOWN_DEVICES.includes(device)) throw new TypeError(`unknown device ${JSON.stringify(device)}; expected one of ${KNOWN_DEVICES.join(", ")}`);
    }
    const { name: cacheDb, maxBytes } = cacheOptions(cache);
    await init({ threads, wasm, relaxedSimd });
    const skipped = {};
    for (const device of prefer) {
      try {
        const runtime = await sdk.Runtime.create(device, cacheDb, maxBytes);
        return new Accelerator(runtime, device, JSON.parse(await sdk.deviceInfo(device)), skipped);
      } catch (e) {
        skipped[device] = messageOf(e);
      }
    }
    throw new Error(`no preferred device is available: ${Object.entries(skipped).map(([d, why]) => `${d}: ${why}`).join("; ")}`);
  }

  /** "webgpu", "webnn" or "cpu". */
  get device() {
    return this.#device;
  }

  /** Adapter facts (name, backend, `software` for CPU-emulated GPUs). */
  get adapter() {
    return this.#adapter;
  }

  /** Devices that were preferred but not available, with the reason. */
  get skipped() {
    return { ...this.#skipped };
  }

  /** The weight cache: list(), delete(name), clear(), usage(), persist(). */
  get cache() {
    return this.#cache;
  }

  /**
   * Load a sentence-embedding model from a base URL holding manifest.json (file CIDs),
   * config.json, tokenizer.json and the weights (`weights`, default "model.safetensors";
   * ".onnx" works too). Every file is checked against its CID; weights come from the cache
   * when a verified copy is there. Options: onProgress({file, loaded, total, origin}),
   * maxTokens, signal, pooling ("mean" | "cls"), embeddingCache (entries, 0 = off),
   * gateway (an IPFS gateway prefix: files are fetched as `<gateway><cid>`), manifest
   * (an object, instead of fetching manifest.json), layers ([start, end): a shard stage's
   * part, only its tensors fetched), weightBudget (bytes; more is refused before fetching).
   */
  async load(url, { onProgress, signal, ...options } = {}) {
    return this.#loadWith("load", url, onProgress, (runtime, u) => runtime.loadEmbedding(u, options, onProgress, signal), EmbeddingModel);
  }

  /**
   * Load a text-generation model (LLaMA family, one GGUF file: Q4_0/Q4_1/Q8_0/F16/F32) from a
   * base URL holding manifest.json and the .gguf file (the manifest's only .gguf unless
   * `file` names one). The file is checked against its CID and cached in IndexedDB like any
   * weights. Options: onProgress, signal, file, gateway, manifest.
   */
  async loadLanguageModel(url, { onProgress, signal, ...options } = {}) {
    return this.#loadWith("loadLanguageModel", url, onProgress, (runtime, u) => runtime.loadLanguage(u, options, onProgress, signal), LanguageModel);
  }

  /**
   * Load an image model (a ViT saliency model, one ONNX file) from a base URL holding
   * manifest.json and the .onnx file (the manifest's only .onnx unless `file` names one),
   * checked against its CID and cached like any weights. Options: onProgress, signal, file,
   * gateway, manifest.
   */
  async loadImageModel(url, { onProgress, signal, ...options } = {}) {
    return this.#loadWith("loadImageModel", url, onProgress, (runtime, u) => runtime.loadImage(u, options, onProgress, signal), ImageModel);
  }

  /**
   * Load a voice activity detector (Silero VAD, one ONNX file; of several, the 16 kHz export
   * `silero_vad_16k_op15.onnx` unless `file` names another). Options: onProgress, signal,
   * file, gateway, manifest.
   */
  async loadVoiceDetector(url, { onProgress, signal, ...options } = {}) {
    return this.#loadWith("loadVoiceDetector", url, onProgress, (runtime, u) => runtime.loadVoiceDetector(u, options, onProgress, signal), VoiceDetector);
  }

  /**
   * Load a speech recognizer (Whisper as CTranslate2 exports it: a base URL holding
   * manifest.json, model.bin, config.json and tokenizer.json). Options: onProgress, signal,
   * gateway, manifest.
   */
  async loadSpeechRecognizer(url, { onProgress, signal, ...options } = {}) {
    return this.#loadWith("loadSpeechRecognizer", url, onProgress, (runtime, u) => runtime.loadSpeechRecognizer(u, options, onProgress, signal), SpeechRecognizer);
  }

  /** Check the arguments, load through the runtime, and track the model for dispose(). */
  async #loadWith(method, url, onProgress, load, Model) {
    if (this.#disposed) throw new Error("this Accelerator was disposed");
    if (typeof url !== "string" && !(url instanceof URL)) throw new TypeError(`${method}(url): url must be a string or URL`);
    if (onProgress !== undefined && typeof onProgress !== "function") throw new TypeError("onProgress must be a function");
    let inner;
    try {
      inner = await load(this.#runtime, String(url));
    } catch (e) {
      throw new Error(messageOf(e));
    }
    const model = new Model(inner, () => {
      this.#models.delete(model);
      this.#runtime.trim();
    });
    this.#models.add(model);
    return model;
  }

  /**
   * Shader precompilation: compile every GPU pipeline now (at load) rather than when an
   * inference first needs it. Resolves to `{ pipelines, ms }` (0 pipelines off the GPU).
   */
  async precompileShaders() {
    if (this.#disposed) throw new Error("this Accelerator was disposed");
    const t0 = performance.now();
    const pipelines = await this.#runtime.precompileShaders();
    return { pipelines, ms: performance.now() - t0 };
  }

  /**
   * Weight memory: `{ devices: {cpu, gpu}, totalBytes, sharedBytes, tensors, models: [{name,
   * bytes, sharedBytes}], gpuPool }` — a tensor shared by several models is counted once.
   */
  memory() {
    if (this.#disposed) throw new Error("this Accelerator was disposed");
    return this.#runtime.memory();
  }

  /** Free every model this Accelerator loaded. */
  dispose() {
    if (this.#disposed) return;
    for (const model of [...this.#models]) model.dispose();
    this.#disposed = true;
    this.#runtime.trim();
  }
}

/** Cached model weights (IndexedDB), by content id. */
class WeightCache {
  #runtime;

  constructor(runtime) {
    this.#runtime = runtime;
  }

  /** Why weights are not cached (e.g. IndexedDB unavailable), or null when they are. */
  get disabledReason() {
    return this.#runtime.cacheDisabledReason ?? null;
  }

  /** Cached models, most recently used first: [{name, version, bytes, lastUsed, storedAt, files}]. */
  list() {
    return this.#runtime.cacheList();
  }

  /** Delete a cached model (and files no other model uses). Resolves to whether it was cached. */
  delete(name) {
    if (typeof name !== "string") throw new TypeError("delete(name): name must be a string");
    return this.#runtime.cacheDelete(name);
  }

  clear() {
    return this.#runtime.cacheClear();
  }

  /** {bytes, partialBytes, models, files, budget, quota: {usage, quota}}. */
  usage() {
    return this.#runtime.cacheUsage();
  }

  /** Ask the browser not to evict the cache under storage pressure; whether it agreed. */
  persist() {
    return this.#runtime.cachePersist();
  }
}

/** The wasm object of a model, reachable only inside this module. */
const INNER = Symbol("inner");

/** What every loaded model shares: its wasm object, and freeing it once. */
class LoadedModel {
  #inner;
  #onDispose;

  constructor(inner, onDispose) {
    this.#inner = inner;
    this.#onDispose = onDispose;
  }

  /** Free the model's memory (weights no other model shares, on the CPU or GPU). Further calls reject. */
  dispose() {
    if (!this.#inner) return;
    this.#inner.free();
    this.#inner = null;
    this.#onDispose();
  }

  [INNER]() {
    if (!this.#inner) throw new Error("this model was disposed");
    return this.#inner;
  }
}

/** A loaded sentence-embedding model. */
export class EmbeddingModel extends LoadedModel {
  get dimensions() {
    return this[INNER]().dimensions;
  }

  get maxTokens() {
    return this[INNER]().maxTokens;
  }

  /** The model's name (from its manifest). */
  get name() {
    return this[INNER]().name;
  }

  /** How the load went: {files: {path: "cache" | "network" | "resumed" | "refetched" | "uncached"}, networkBytes, verified}. */
  get loadReport() {
    return this[INNER]().loadReport;
  }

  /** {hits, misses, entries, capacity} of the embedding cache. */
  cacheStats() {
    return this[INNER]().cacheStats();
  }

  /**
   * Sharding, first stage: embed `texts` as one padded batch and run layers [0, end);
   * resolves to the activations as bytes (Uint8Array) for the next stage.
   */
  stageFirst(texts, end) {
    return this[INNER]().stageFirst(texts, end);
  }

  /** Sharding, later stage: layers [start, end) over `bytes`; with `pool`, pooled embeddings. */
  stageNext(bytes, start, end, pool) {
    return this[INNER]().stageNext(bytes, start, end, pool);
  }

  /** One L2-normalised Float32Array per text, in order. */
  async embed(texts) {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) throw new TypeError("embed(texts): texts must be an array of strings");
    return this[INNER]().embed(texts);
  }

}

/** A loaded text-generation model. */
export class LanguageModel extends LoadedModel {
  #busy = false;

  get name() {
    return this[INNER]().name;
  }

  /** Positions the model was trained for (prompt + output). */
  get contextLength() {
    return this[INNER]().contextLength;
  }

  /** Whether `generate` can apply the file's chat template (messages, or `chat: true`). */
  get hasChatTemplate() {
    return this[INNER]().hasChatTemplate;
  }

  /** Bytes of weights held, at their quantized size. */
  get weightBytes() {
    return this[INNER]().weightBytes;
  }

  get loadReport() {
    return this[INNER]().loadReport;
  }

  /** Token ids of `text` (no template applied). */
  tokenize(text) {
    if (typeof text !== "string") throw new TypeError("tokenize(text): text must be a string");
    return Array.from(this[INNER]().tokenize(text));
  }

  /**
   * Generate text after `prompt` (a string; or `[{role, content}]` messages, put through the
   * model's chat template; `chat: true` does that for a string). Options: maxTokens (128),
   * temperature (0 = greedy), topK, topP, repetitionPenalty, seed, stopAtEos (true),
   * kvCache ("f32" default; "q8_0" | "q4_1" | "q2" hold the KV cache in blocks, CPU device only),
   * activations ("f32" default; "int8": 8-bit inputs and integer dots in the linear layers,
   * faster, CPU device only),
   * onToken(piece) — called with each new piece of text as it comes; returning false stops —
   * and signal (AbortSignal: rejects with an AbortError whose `result` holds the text so far).
   * Resolves to {text, tokens, promptTokens, finishReason ("eos" | "length" | "context" |
   * "cancelled"), prefillMs, timeToFirstTokenMs, decodeMs, prefillTokensPerSecond,
   * decodeTokensPerSecond, kvCacheBytes}.
   */
  async generate(prompt, { onToken, signal, ...options } = {}) {
    const messages = Array.isArray(prompt);
    if (!messages && typeof prompt !== "string") throw new TypeError("generate(prompt): prompt must be a string or an array of {role, content}");
    if (onToken !== undefined && typeof onToken !== "function") throw new TypeError("onToken must be a function");
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
    const inner = this[INNER]();
    if (this.#busy) throw new Error("this model is already generating; await the previous generate() first");
    signal?.throwIfAborted();
    this.#busy = true;
    let generation;
    try {
      try {
        generation = await inner.start(messages ? JSON.stringify(prompt) : prompt, messages, JSON.stringify(options, nonFiniteAsString));
      } catch (e) {
        throw new Error(messageOf(e));
      }
      for (;;) {
        if (signal?.aborted) {
          generation.cancel();
          throw abortError(signal, generation.result());
        }
        let piece;
        try {
          piece = await generation.next();
        } catch (e) {
          throw new Error(messageOf(e));
        }
        if (piece === undefined) break;
        // Awaited: behind the Worker proxy the answer comes back as a message.
        if (piece !== "" && onToken && (await onToken(piece)) === false) generation.cancel();
        // Let the page run (rendering, the abort button) between tokens.
        await nextTask();
      }
      return generation.result();
    } finally {
      generation?.free();
      this.#busy = false;
    }
  }

}

/** Resolves on the next macrotask; unlike setTimeout(0) it is not clamped to 4 ms. */
function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** A loaded image model: a saliency heatmap and an image vector per image. */
export class ImageModel extends LoadedModel {
  get name() {
    return this[INNER]().name;
  }

  /** The square side images are fitted into (longest side scaled, the rest padded). */
  get inputSize() {
    return this[INNER]().inputSize;
  }

  /** Width of each result's `embedding` (the backbone's CLS vector). */
  get embeddingWidth() {
    return this[INNER]().embeddingWidth;
  }

  get loadReport() {
    return this[INNER]().loadReport;
  }

  /**
   * Run one image — ImageData, ImageBitmap, a Blob/File (decoded by the browser), an
   * OffscreenCanvas, or `{data, width, height}` with RGBA bytes — or an array of them (one
   * result each, in order). Resolves to `{heatmap: {width, height, data: Float32Array},
   * embedding: Float32Array}`: saliency in [0, 1] over the image's content at the model's
   * scale, row-major.
   */
  async run(image) {
    const inner = this[INNER]();
    if (Array.isArray(image)) {
      const results = [];
      for (const one of image) results.push(await this.run(one));
      return results;
    }
    const { data, width, height } = await rgbaPixels(image);
    try {
      return await inner.run(data, width, height);
    } catch (e) {
      throw new Error(messageOf(e));
    }
  }
}

/** A loaded voice activity detector: speech probability per 32 ms, and speech segments. */
export class VoiceDetector extends LoadedModel {
  get name() {
    return this[INNER]().name;
  }

  get loadReport() {
    return this[INNER]().loadReport;
  }

  /**
   * The speech probability of each 512-sample (32 ms) chunk of `audio` at 16 kHz:
   * a Float32Array of mono samples (`sampleRate`, default 16000, says their rate; others are
   * resampled), `{samples, sampleRate}`, or an AudioBuffer (channels mixed down).
   */
  async probabilities(audio, { sampleRate } = {}) {
    const { samples, rate } = monoSamples(audio, sampleRate);
    try {
      return await this[INNER]().probabilities(samples, rate);
    } catch (e) {
      throw new Error(messageOf(e));
    }
  }

  /**
   * Speech segments `[{start, end}]` in seconds, by silero's rules. Options: threshold (0.5),
   * minSpeechMs (250), minSilenceMs (100), speechPadMs (30), sampleRate.
   */
  async segments(audio, { sampleRate, ...options } = {}) {
    const { samples, rate } = monoSamples(audio, sampleRate);
    try {
      return JSON.parse(await this[INNER]().segments(samples, rate, JSON.stringify(options, nonFiniteAsString)));
    } catch (e) {
      throw new Error(messageOf(e));
    }
  }
}

/** A loaded speech recognizer (Whisper): text from speech, window by window. */
export class SpeechRecognizer extends LoadedModel {
  get name() {
    return this[INNER]().name;
  }

  get loadReport() {
    return this[INNER]().loadReport;
  }

  /**
   * The speech in `audio` (as VoiceDetector takes it) as text, window by window: every 30 s,
   * or, given `speech` (a VoiceDetector's segments of the same audio), windows of at most
   * 30 s cut at the pauses between them (silence between windows is skipped). Each window
   * is decoded with `beam` hypotheses (default 1: greedy; CTranslate2's beam search).
   * `onSegment({start, end, text, tokens})` is called as each window is done — with
   * `timestamps`, once per timed piece of text, its times from the audio's start — and
   * `signal` stops between windows (rejecting with an AbortError whose `result` holds the
   * segments so far). Resolves to `{text, segments}`. `language` must be "en" (tiny.en).
   */
  async transcribe(audio, { sampleRate, onSegment, signal, language, beam = 1, timestamps = false, speech } = {}) {
    if (language !== undefined && language !== "en") throw new RangeError(`language ${JSON.stringify(language)}: this model transcribes English ("en") only`);
    if (!Number.isInteger(beam)) throw new RangeError(`beam ${beam}: the number of hypotheses must be a whole number (1 is greedy)`);
    if (typeof timestamps !== "boolean") throw new TypeError(`timestamps must be true or false, got ${timestamps}`);
    if (onSegment !== undefined && typeof onSegment !== "function") throw new TypeError("onSegment must be a function");
    const { samples, rate } = monoSamples(audio, sampleRate);
    const inner = this[INNER]();
    const segments = [];
    for (const [from, to] of windowsOf(inner, samples.length / rate, speech)) {
      if (signal?.aborted) throw abortError(signal, { text: joined(segments), segments }, "transcription was aborted");
      const start = Math.round(from * rate);
      const piece = samples.subarray(start, Math.min(Math.round(to * rate), samples.length));
      if (piece.length === 0) continue;
      let result;
      try {
        result = JSON.parse(await inner.transcribeWindow(piece, rate, beam, timestamps));
      } catch (e) {
        throw new Error(messageOf(e));
      }
      const at = start / rate;
      const found = timestamps
        ? result.pieces.map((p) => ({ start: at + p.start, end: at + p.end, text: p.text }))
        : [{ start: at, end: at + piece.length / rate, text: result.text, tokens: result.tokens }];
      for (const segment of found) {
        segments.push(segment);
        onSegment?.(segment);
      }
    }
    return { text: joined(segments), segments };
  }

  /**
   * The encoder's output for the first 30 s of `audio` (as `transcribe` takes it): `{data,
   * dims: [1500, width]}`, one row per 20 ms of the (padded) window.
   */
  async encode(audio, { sampleRate } = {}) {
    const { samples, rate } = monoSamples(audio, sampleRate);
    const inner = this[INNER]();
    const piece = samples.subarray(0, Math.min(samples.length, Math.round(inner.windowSeconds * rate)));
    let data;
    try {
      data = await inner.encodeWindow(piece, rate);
    } catch (e) {
      throw new Error(messageOf(e));
    }
    return { data, dims: [1500, data.length / 1500] };
  }
}

/** The windows `[from, to]` (seconds) of audio `seconds` long: every 30 s, or packed from speech segments. */
function windowsOf(inner, seconds, speech) {
  if (speech === undefined) {
    const out = [];
    for (let from = 0; from < seconds; from += inner.windowSeconds) out.push([from, Math.min(from + inner.windowSeconds, seconds)]);
    return out;
  }
  if (!Array.isArray(speech) || speech.some((s) => typeof s?.start !== "number" || typeof s?.end !== "number")) {
    throw new TypeError("speech must be the segments [{start, end}] a VoiceDetector found in the same audio");
  }
  let flat;
  try {
    flat = inner.windowsFromSpeech(new Float64Array(speech.flatMap((s) => [s.start, s.end])));
  } catch (e) {
    throw new RangeError(messageOf(e));
  }
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

function joined(segments) {
  return segments.map((s) => s.text).filter((t) => t).join(" ");
}

/** Mono samples and their rate from what a caller hands over. */
function monoSamples(audio, sampleRate) {
  if (audio instanceof Float32Array) return { samples: audio, rate: checkedRate(sampleRate ?? 16000) };
  if (audio && typeof audio.getChannelData === "function" && typeof audio.numberOfChannels === "number") {
    return { samples: mixDown(audio), rate: checkedRate(audio.sampleRate) };
  }
  if (audio && audio.samples instanceof Float32Array) return { samples: audio.samples, rate: checkedRate(audio.sampleRate ?? sampleRate ?? 16000) };
  throw new TypeError("audio must be a Float32Array of mono samples, {samples, sampleRate}, or an AudioBuffer (a Blob is decoded by the package's entry)");
}

/** An AudioBuffer's channels averaged into one. */
export function mixDown(buffer) {
  const mixed = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) buffer.getChannelData(c).forEach((v, i) => (mixed[i] += v / buffer.numberOfChannels));
  return mixed;
}

function checkedRate(rate) {
  if (!Number.isInteger(rate) || rate <= 0) throw new TypeError(`sampleRate must be a positive whole number of Hz, got ${rate}`);
  return rate;
}

/** RGBA bytes of an image the caller handed over, decoded with the browser's own decoders. */
async function rgbaPixels(image) {
  if (image && typeof image === "object" && "data" in image && "width" in image && "height" in image && !(image instanceof Blob)) {
    const { data, width, height } = image;
    if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new TypeError("run(image): image.data must hold RGBA bytes (Uint8ClampedArray or Uint8Array)");
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
  }
  const decodable = (typeof Blob !== "undefined" && image instanceof Blob) || (typeof ImageBitmap !== "undefined" && image instanceof ImageBitmap) ||
    (typeof OffscreenCanvas !== "undefined" && image instanceof OffscreenCanvas);
  if (!decodable) throw new TypeError("run(image): image must be ImageData, ImageBitmap, a Blob or File, an OffscreenCanvas, or {data, width, height}");
  let bitmap;
  try {
    bitmap = image instanceof ImageBitmap ? image : await createImageBitmap(image, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch (e) {
    throw new Error(`run(image): the ${image instanceof Blob ? `Blob (${image.type || "no type"}, ${image.size} bytes)` : "image"} could not be decoded: ${messageOf(e)}`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", { colorSpace: "srgb" });
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height);
  return { data: new Uint8Array(pixels.data.buffer), width: pixels.width, height: pixels.height };
}

/** The signal's own reason when it is an Error, else an AbortError; with the partial result. */
export function abortError(signal, result, message = "generation was aborted") {
  const reason = signal?.reason;
  const error = reason instanceof Error ? reason : new DOMException(reason === undefined ? message : String(reason), "AbortError");
  try {
    // An own property: Firefox's DOMException already has a `result` getter (its error code),
    // which a plain assignment cannot replace.
    Object.defineProperty(error, "result", { value: result, writable: true, enumerable: true, configurable: true });
  } catch {
    // a frozen reason: the partial result is lost, the abort is not
  }
  return error;
}

function cacheOptions(cache) {
  if (cache === false) return { name: undefined, maxBytes: undefined };
  if (cache === true || cache === undefined) return { name: DEFAULT_CACHE_DB, maxBytes: undefined };
  if (typeof cache !== "object" || cache === null) throw new TypeError("cache must be true, false or { name, maxBytes }");
  const { name = DEFAULT_CACHE_DB, maxBytes } = cache;
  if (typeof name !== "string" || name === "") throw new TypeError("cache.name must be a non-empty string");
  if (maxBytes !== undefined && !(Number.isFinite(maxBytes) && maxBytes >= 0)) throw new TypeError("cache.maxBytes must be a non-negative number");
  return { name, maxBytes };
}

/** JSON.stringify replacer: NaN and ±Infinity as strings (plain JSON would turn them into null,
 * i.e. "not given"), so the SDK's option check refuses them by name. */
function nonFiniteAsString(_key, value) {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

function messageOf(e) {
  return e && e.message ? e.message : String(e);
}

/** Start timing every CPU op this engine runs. */
export async function profileBegin() {
  await init();
  sdk.profileBegin();
}

/** Stop timing: `{op: {calls, ms}}` since profileBegin(). */
export async function profileTake() {
  await init();
  return JSON.parse(sdk.profileTake());
}

/** Bytes of the SDK's wasm memory; it only grows, so this is the peak heap so far. */
export async function wasmMemoryBytes() {
  await init();
  return sdk.wasmMemoryBytes();
}
