// ESM entry of the npm package. The engine runs in a dedicated Web Worker (worker.js over
// engine.js), so loading, embedding and generating never block the page; this module is a thin
// proxy with the same API. Accelerators with the same `threads` share one engine (one wasm
// instance and thread pool per page, which also knows every model in use, so the weight cache
// never evicts one). Every call is asynchronous; an object's fixed
// properties (device, adapter, dimensions, name, …) are read when it is created.

import { mixDown } from "./engine.js";
import { callEngine, engineFor, registerObjectKind, splitOptions } from "./engine_worker.js";
import { pipeline } from "./pipeline.js";

/** Devices the SDK can open; WebNN only where the browser has a WebNN backend. */
const KNOWN_DEVICES = ["webgpu", "webnn", "cpu"];

/** Start the default engine worker and its wasm build (idempotent). */
export async function init() {
  await engineFor(undefined);
}

/** Which build the shared engine runs: {build, threads, threadsUnavailable, cpuFlavour, crossOriginIsolated}. */
export function info() {
  return callEngine({}, "info");
}

export function version() {
  return callEngine({}, "version");
}

/** Which CPU kernels the shared engine's build runs ("wasm-simd128", "wasm-simd128-threads"). */
export function cpuFlavour() {
  return callEngine({}, "cpuFlavour");
}

/** Bytes of the shared engine's wasm memory; it only grows, so this is its peak heap so far. */
export function wasmMemoryBytes() {
  return callEngine({}, "wasmMemoryBytes");
}

/**
 * Where model ids written the way the ecosystem writes them (`org/name`) are found:
 * `${remoteHost}/${id}/resolve/${remoteRevision}/<file>`, the layout of a model hub. Change
 * it to point at a mirror or a local server laid out the same way.
 */
export const env = { remoteHost: "https://huggingface.co", remoteRevision: "main" };

/** A hub id: `org/name`, one slash, no scheme, not a path (those start with `.` or `/` or end with `/`). */
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** The base URL a model reference names: hub ids resolved against `env`, anything else as given. */
export function resolveModelUrl(ref) {
  const text = String(ref);
  if (!HUB_ID.test(text)) return text;
  const host = String(env.remoteHost).replace(/\/+$/, "");
  return `${host}/${text}/resolve/${encodeURIComponent(env.remoteRevision)}/`;
}

/** Entry point: picks a device, loads models onto it in the engine Worker, caches their weights by content id. */
export class Accelerator {
  #worker;
  #remote;
  #props;
  #info;
  #cache;
  #models = new Set();
  #disposed = false;

  constructor(worker, remote, props, info) {
    this.#worker = worker;
    this.#remote = remote;
    this.#props = props;
    this.#info = info;
    this.#cache = new WeightCache(remote, props.cacheDisabledReason);
  }

  /**
   * An accelerator on the first usable device of `prefer` (default ["webgpu", "cpu"]); a device
   * that is not available is skipped, and why is kept in `skipped`. `cache`: true (default),
   * false, or `{ name, maxBytes }`. `threads`: the most CPU threads its engine may use
   * (default: every core; 1 = a one-thread build). `relaxedSimd: false` keeps to the plain
   * SIMD builds. `wasm`: where to load the one-thread module from.
   */
  static async create(options = {}) {
    if (options === null || typeof options !== "object") throw new TypeError("Accelerator.create(options): options must be an object");
    const { prefer, threads, relaxedSimd, wasm, cache } = options;
    if (prefer !== undefined && (!Array.isArray(prefer) || prefer.length === 0)) throw new TypeError('prefer must be a non-empty array, e.g. ["webgpu", "cpu"]');
    for (const device of prefer ?? []) {
      if (!KNOWN_DEVICES.includes(device)) throw new TypeError(`unknown device ${JSON.stringify(device)}; expected one of ${KNOWN_DEVICES.join(", ")}`);
    }
    const worker = await engineFor(threads, wasm instanceof URL ? String(wasm) : wasm, relaxedSimd);
    const { remote, props } = await worker.call(0, "create", [{ prefer, cache }]);
    return new Accelerator(worker, remote, props, await worker.call(0, "info"));
  }

  /** "webgpu", "webnn" or "cpu". */
  get device() {
    return this.#props.device;
  }

  /** Adapter facts (name, backend, `software` for CPU-emulated GPUs). */
  get adapter() {
    return this.#props.adapter;
  }

  /** Devices that were preferred but not available, with the reason. */
  get skipped() {
    return { ...this.#props.skipped };
  }

  /** The engine's build: {build: "threads" | "simd", threads, threadsUnavailable, cpuFlavour, crossOriginIsolated}. */
  info() {
    return { ...this.#info, device: this.device };
  }

  /** The weight cache: list(), delete(name), clear(), usage(), persist(). */
  get cache() {
    return this.#cache;
  }

  /**
   * Load a sentence-embedding model from a base URL holding manifest.json, config.json,
   * tokenizer.json and the weights; see index.d.ts for the options.
   */
  load(url, options) {
    return this.#loadWith("load", url, options);
  }

  /** Load a text-generation model (LLaMA family, one GGUF file); see index.d.ts. */
  loadLanguageModel(url, options) {
    return this.#loadWith("loadLanguageModel", url, options);
  }

  /** Load an image model (a ViT saliency model, one ONNX file); see index.d.ts. */
  loadImageModel(url, options) {
    return this.#loadWith("loadImageModel", url, options);
  }

  /** Load a voice activity detector (Silero VAD's ONNX); see index.d.ts. */
  loadVoiceDetector(url, options) {
    return this.#loadWith("loadVoiceDetector", url, options);
  }

  /** Load a speech recognizer (Whisper, CTranslate2 export); see index.d.ts. */
  loadSpeechRecognizer(url, options) {
    return this.#loadWith("loadSpeechRecognizer", url, options);
  }

  async #loadWith(method, url, options = {}) {
    if (this.#disposed) throw new Error("this Accelerator was disposed");
    if (typeof url !== "string" && !(url instanceof URL)) throw new TypeError(`${method}(url): url must be a string or URL`);
    const { sent, callbacks, signal } = splitOptions(options, ["onProgress"]);
    const model = await this.#remote.call(method, [resolveModelUrl(url), sent], { callbacks, signal });
    model.onDispose(() => this.#models.delete(model));
    this.#models.add(model);
    return model;
  }

  /** Bytes of this engine's wasm memory (its peak heap so far). */
  wasmMemoryBytes() {
    return this.#worker.call(0, "wasmMemoryBytes");
  }

  /** Compile every GPU pipeline now rather than at first use: `{ pipelines, ms }`. */
  async precompileShaders() {
    if (this.#disposed) throw new Error("this Accelerator was disposed");
    return this.#remote.call("precompileShaders");
  }

  /** Weight memory: `{ devices, totalBytes, sharedBytes, tensors, models, gpuPool }` (a promise). */
  async memory() {
    if (this.#disposed) throw new Error("this Accelerator was disposed");
    return this.#remote.call("memory");
  }

  /**
   * A task-level callable over a model: "feature-extraction" (embeddings) or
   * "text-generation" (with `.stream`); see index.d.ts. `options` are the model's load options.
   */
  pipeline(task, model, options) {
    return pipeline(this, task, model, options);
  }

  /** Free every model this Accelerator loaded. */
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const model of [...this.#models]) model.markDisposed();
    this.#remote.call("dispose").catch(() => {});
  }
}

/** Cached model weights (IndexedDB), by content id. */
class WeightCache {
  #remote;
  #disabledReason;

  constructor(remote, disabledReason) {
    this.#remote = remote;
    this.#disabledReason = disabledReason;
  }

  /** Why weights are not cached (e.g. IndexedDB unavailable), or null when they are. */
  get disabledReason() {
    return this.#disabledReason ?? null;
  }

  /** Cached models, most recently used first: [{name, version, bytes, lastUsed, storedAt, files}]. */
  list() {
    return this.#remote.call("cache.list");
  }

  /** Delete a cached model (and files no other model uses). Resolves to whether it was cached. */
  async delete(name) {
    if (typeof name !== "string") throw new TypeError("delete(name): name must be a string");
    return this.#remote.call("cache.delete", [name]);
  }

  clear() {
    return this.#remote.call("cache.clear");
  }

  /** {bytes, partialBytes, models, files, budget, quota: {usage, quota}}. */
  usage() {
    return this.#remote.call("cache.usage");
  }

  /**
   * Ask the browser not to evict the cache under storage pressure; whether it agreed. Asked
   * here, not in the engine: `navigator.storage.persist()` exists only in windows.
   */
  async persist() {
    return typeof navigator.storage?.persist === "function" ? navigator.storage.persist() : false;
  }
}

/** What every loaded model shares: its remote object, and freeing it once. */
class LoadedModel {
  #remote;
  #props;
  #onDispose = [];

  constructor(remote, props) {
    this.#remote = remote;
    this.#props = props;
  }

  get name() {
    return this.#props.name;
  }

  /** How the load went: {files: {path: origin}, networkBytes, verified}. */
  get loadReport() {
    return this.#props.loadReport;
  }

  /** Free the model's memory (weights no other model shares). Further calls reject. */
  dispose() {
    if (!this.#remote) return;
    const remote = this.#remote;
    this.markDisposed();
    remote.call("dispose").catch(() => {});
  }

  /** Forget the remote object (its worker is going away, or it was disposed). */
  markDisposed() {
    this.#remote = null;
    for (const f of this.#onDispose.splice(0)) f();
  }

  onDispose(f) {
    this.#onDispose.push(f);
  }

  prop(name) {
    return this.#props[name];
  }

  call(method, args, options) {
    if (!this.#remote) return Promise.reject(new Error("this model was disposed"));
    return this.#remote.call(method, args, options);
  }
}

/** A loaded sentence-embedding model. */
export class EmbeddingModel extends LoadedModel {
  get dimensions() {
    return this.prop("dimensions");
  }

  get maxTokens() {
    return this.prop("maxTokens");
  }

  /** {hits, misses, entries, capacity} of the embedding cache (a promise). */
  cacheStats() {
    return this.call("cacheStats");
  }

  /** Sharding, first stage: layers [0, end) of `texts` as one padded batch; resolves to bytes. */
  stageFirst(texts, end) {
    return this.call("stageFirst", [texts, end]);
  }

  /** Sharding, later stage: layers [start, end) over `bytes`; with `pool`, pooled embeddings. */
  stageNext(bytes, start, end, pool) {
    return this.call("stageNext", [bytes, start, end, pool]);
  }

  /** One L2-normalised Float32Array per text, in order. */
  async embed(texts) {
    if (!Array.isArray(texts) || texts.some((t) => typeof t !== "string")) throw new TypeError("embed(texts): texts must be an array of strings");
    return this.call("embed", [texts]);
  }
}

/** A loaded text-generation model. */
export class LanguageModel extends LoadedModel {
  /** Positions the model was trained for (prompt + output). */
  get contextLength() {
    return this.prop("contextLength");
  }

  /** Whether `generate` can apply the file's chat template (messages, or `chat: true`). */
  get hasChatTemplate() {
    return this.prop("hasChatTemplate");
  }

  /** Bytes of weights held, at their quantized size. */
  get weightBytes() {
    return this.prop("weightBytes");
  }

  /** Token ids of `text` (no template applied; a promise). */
  async tokenize(text) {
    if (typeof text !== "string") throw new TypeError("tokenize(text): text must be a string");
    return this.call("tokenize", [text]);
  }

  /**
   * Generate text after `prompt` (a string, or `[{role, content}]` messages); see index.d.ts
   * for the options. onToken(piece) is called with each new piece; returning false stops.
   */
  async generate(prompt, options = {}) {
    if (!Array.isArray(prompt) && typeof prompt !== "string") throw new TypeError("generate(prompt): prompt must be a string or an array of {role, content}");
    const { sent, callbacks, signal } = splitOptions(options, ["onToken"]);
    return this.call("generate", [prompt, sent], { callbacks, signal });
  }

  /**
   * The same generation as an async iterable of pieces:
   * `for await (const piece of llm.stream(messages, options)) …`. Leaving the loop early
   * (break, return, throw) stops the generation; the generator's return value is the
   * `GenerateResult`. Options as for `generate` (an `onToken` there is still called).
   */
  async *stream(prompt, options = {}) {
    const pieces = [];
    let wake = null;
    let settled = false;
    let failure = null;
    const stop = new AbortController();
    const outer = options.signal;
    if (outer?.aborted) stop.abort(outer.reason);
    else outer?.addEventListener("abort", () => stop.abort(outer.reason), { once: true });
    const notify = () => {
      wake?.();
      wake = null;
    };
    const onToken = (piece) => {
      pieces.push(piece);
      notify();
      return options.onToken?.(piece);
    };
    const finished = this.generate(prompt, { ...options, onToken, signal: stop.signal }).then(
      (result) => ((settled = true), notify(), result),
      (e) => ((failure = e), (settled = true), notify(), null),
    );
    try {
      for (;;) {
        if (pieces.length > 0) yield pieces.shift();
        else if (settled) break;
        else await new Promise((resolve) => (wake = resolve));
      }
      if (failure) throw failure;
      return await finished;
    } finally {
      // The consumer left early: stop generating, and wait for the engine to finish stopping.
      if (!settled) {
        stop.abort();
        await finished;
      }
    }
  }
}

/** A loaded image model: a saliency heatmap and an image vector per image. */
export class ImageModel extends LoadedModel {
  /** The square side images are fitted into (longest side scaled, the rest padded). */
  get inputSize() {
    return this.prop("inputSize");
  }

  /** Width of each result's `embedding`. */
  get embeddingWidth() {
    return this.prop("embeddingWidth");
  }

  /**
   * `{heatmap: {width, height, data}, embedding}` for one image, or one per image of an array.
   * Elements the engine's Worker cannot receive (an <img>, <canvas> or <video>) are turned
   * into an ImageBitmap here first.
   */
  async run(image) {
    const sendable = async (one) => (typeof HTMLElement !== "undefined" && one instanceof HTMLElement ? createImageBitmap(one) : one);
    return this.call("run", [Array.isArray(image) ? await Promise.all(image.map(sendable)) : await sendable(image)]);
  }
}

/** A loaded voice activity detector. */
export class VoiceDetector extends LoadedModel {
  /** Speech probability per 32 ms chunk (a Float32Array) of a Float32Array, AudioBuffer or Blob/File. */
  async probabilities(audio, options = {}) {
    const { audio: sent, sampleRate } = await sendableAudio(audio, options.sampleRate);
    return this.call("probabilities", [sent, { ...options, sampleRate }]);
  }

  /** Speech segments `[{start, end}]` in seconds; options as in index.d.ts. */
  async segments(audio, options = {}) {
    const { audio: sent, sampleRate } = await sendableAudio(audio, options.sampleRate);
    return this.call("segments", [sent, { ...options, sampleRate }]);
  }
}

/**
 * What the engine's Worker can take: samples and their rate. A Blob/File is decoded here by
 * the browser's own audio decoder (the Worker has none), straight to 16 kHz; an AudioBuffer
 * (which cannot cross to a Worker) is mixed down to mono here.
 */
async function sendableAudio(audio, sampleRate) {
  if (typeof Blob !== "undefined" && audio instanceof Blob) {
    const bytes = await audio.arrayBuffer();
    let decoded;
    try {
      decoded = await new OfflineAudioContext({ numberOfChannels: 1, length: 1, sampleRate: 16000 }).decodeAudioData(bytes);
    } catch (e) {
      throw new Error(`the Blob (${audio.type || "no type"}, ${audio.size} bytes) could not be decoded as audio: ${e?.message ?? e}`);
    }
    audio = decoded;
  }
  if (typeof AudioBuffer !== "undefined" && audio instanceof AudioBuffer) return { audio: mixDown(audio), sampleRate: audio.sampleRate };
  return { audio, sampleRate };
}

/** A loaded speech recognizer. */
export class SpeechRecognizer extends LoadedModel {
  /** `{text, segments}` of a Float32Array, AudioBuffer or Blob/File; options as in index.d.ts. */
  async transcribe(audio, options = {}) {
    const { sent, callbacks, signal } = splitOptions(options, ["onSegment"]);
    const { audio: samples, sampleRate } = await sendableAudio(audio, options.sampleRate);
    return this.call("transcribe", [samples, { ...sent, sampleRate }], { callbacks, signal });
  }

  /** The encoder's output `{data, dims: [1500, width]}` for the first 30 s of the audio. */
  async encode(audio, options = {}) {
    const { audio: samples, sampleRate } = await sendableAudio(audio, options.sampleRate);
    return this.call("encode", [samples, { sampleRate }]);
  }
}

registerObjectKind("embedding", (remote, props) => new EmbeddingModel(remote, props));
registerObjectKind("speech", (remote, props) => new SpeechRecognizer(remote, props));
registerObjectKind("voice", (remote, props) => new VoiceDetector(remote, props));
registerObjectKind("image", (remote, props) => new ImageModel(remote, props));
registerObjectKind("language", (remote, props) => new LanguageModel(remote, props));
