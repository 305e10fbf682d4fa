// ESM entry of the npm package. The engine runs in a dedicated Web Worker (worker.js over
// engine.js), so loading, embedding and generating never block the page; this module is a thin
// proxy with the same API. Accelerators with the same `threads` share one engine (one wasm
// instance and thread pool per page, which also knows every model in use, so the weight cache
// never evicts one). Every call is asynchronous; an object's fixed
// properties (device, adapter, dimensions, name, …) are read when it is created.

// Only a helper: the engine itself (and its wasm) loads in the Worker, not here.
import { abortError } from "./engine.js";
import { pipeline } from "./pipeline.js";

/** Devices the SDK can open; WebNN only where the browser has a WebNN backend. */
const KNOWN_DEVICES = ["webgpu", "webnn", "cpu"];

/** A Worker running the engine, and the calls waiting for its answers. */
class EngineWorker {
  #worker;
  #pending = new Map();
  #nextId = 1;
  #closed = null;

  constructor() {
    this.#worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "ipfs-accelerate engine" });
    this.#worker.onmessage = ({ data }) => this.#receive(data);
    this.#worker.onerror = (event) => {
      event.preventDefault?.();
      this.#fail(new Error(`the engine worker failed: ${event.message || "it could not start (is worker.js served beside index.js?)"}`));
    };
  }

  /**
   * Call `method` on the object `target` (0: the engine module). Functions in the last
   * argument (onProgress, onToken) are called back here; `signal` is forwarded as aborts.
   */
  call(target, method, args = [], { callbacks = {}, signal } = {}) {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const pending = { resolve, reject, callbacks, signal, onAbort: null };
      this.#pending.set(id, pending);
      if (signal) {
        pending.onAbort = () => this.#worker.postMessage({ kind: "abort", id, reason: cloneable(signal.reason) });
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.#worker.postMessage({ kind: "call", id, target, method, args, callbacks: Object.keys(callbacks), signal: !!signal });
    });
  }

  /** Stop the worker (and its thread pool); calls still waiting reject. */
  terminate(why) {
    this.#worker.terminate();
    this.#fail(new Error(why));
  }

  #fail(error) {
    this.#closed ??= error;
    for (const [id, pending] of this.#pending) this.#settle(id, pending, () => pending.reject(error));
  }

  #settle(id, pending, finish) {
    this.#pending.delete(id);
    if (pending.onAbort) pending.signal.removeEventListener("abort", pending.onAbort);
    finish();
  }

  async #receive(data) {
    const pending = this.#pending.get(data.id);
    if (!pending) return;
    if (data.kind === "callback") {
      let value;
      try {
        value = pending.callbacks[data.name](data.value);
      } catch (e) {
        console.error(`${data.name} threw`, e);
      }
      if (data.name === "onToken") this.#worker.postMessage({ kind: "reply", id: data.id, value: value === false ? false : undefined });
      return;
    }
    if (data.error) this.#settle(data.id, pending, () => pending.reject(rebuildError(data.error, pending.signal)));
    else this.#settle(data.id, pending, () => pending.resolve(this.#wrap(data.value)));
  }

  #wrap(value) {
    if (!("object" in value)) return value.plain;
    const { handle, kind, props } = value.object;
    const remote = new RemoteObject(this, handle);
    if (kind === "embedding") return new EmbeddingModel(remote, props);
    if (kind === "language") return new LanguageModel(remote, props);
    return { remote, props };
  }
}

/** One engine object living in a worker. */
class RemoteObject {
  constructor(worker, handle) {
    this.worker = worker;
    this.handle = handle;
  }

  call(method, args, options) {
    return this.worker.call(this.handle, method, args, options);
  }
}

/** An Error as thrown on this side, from what the worker sent. */
function rebuildError({ name, message, result }, signal) {
  if (name === "AbortError") return abortError(signal, result, message);
  const error = name === "TypeError" ? new TypeError(message) : name === "RangeError" ? new RangeError(message) : new Error(message);
  if (!["Error", "TypeError", "RangeError"].includes(name)) error.name = name;
  return error;
}

/** Abort reasons cross to the worker as themselves when they can, else as text. */
function cloneable(reason) {
  try {
    structuredClone(reason);
    return reason;
  } catch {
    return String(reason);
  }
}

/** Split `options` into what is sent and what stays here (functions, the signal). */
function splitOptions(options, names) {
  if (options === null || typeof options !== "object") return { sent: options, callbacks: {}, signal: undefined };
  const { signal, ...rest } = options;
  const callbacks = {};
  for (const name of names) {
    if (rest[name] === undefined) continue;
    if (typeof rest[name] !== "function") throw new TypeError(`${name} must be a function`);
    callbacks[name] = rest[name];
    delete rest[name];
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
  signal?.throwIfAborted();
  return { sent: rest, callbacks, signal };
}

const engines = new Map();

/**
 * The engine for `threads` (and `wasm`, where a module is given), started on first use:
 * one per setting, shared by the module's functions and every Accelerator asking for it.
 */
async function engineFor(threads, wasm, relaxedSimd) {
  const key = wasm === undefined ? `threads=${threads ?? "all"} relaxed=${relaxedSimd !== false}` : typeof wasm === "string" ? `wasm=${wasm}` : null;
  if (key !== null && engines.has(key)) return engines.get(key);
  const starting = (async () => {
    const worker = new EngineWorker();
    try {
      await worker.call(0, "init", [{ threads, wasm, relaxedSimd }]);
      return worker;
    } catch (e) {
      worker.terminate("the engine did not start");
      if (key !== null) engines.delete(key);
      throw e;
    }
  })();
  if (key !== null) engines.set(key, starting);
  return starting;
}

/** Call one of the engine module's functions in the engine for `{threads, relaxedSimd}`. */
async function callEngine({ threads, relaxedSimd } = {}, method, args) {
  return (await engineFor(threads, undefined, relaxedSimd)).call(0, method, args);
}

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

/** Adapter facts for "cpu" or "webgpu" (includes `software: true` for CPU-emulated GPUs), in the engine for `threads`. */
export function deviceInfo(device, engine = {}) {
  return callEngine(engine, "deviceInfo", [device]);
}

/** Run one kernel benchmark case on "cpu" or "webgpu"; see KernelCase in index.d.ts. `threads` as for Accelerator.create. */
export function runKernelCase(kernelCase, device, engine = {}) {
  return callEngine(engine, "runKernelCase", [kernelCase, device]);
}

/** Bytes of the shared engine's wasm memory; it only grows, so this is its peak heap so far. */
export function wasmMemoryBytes() {
  return callEngine({}, "wasmMemoryBytes");
}

/** Start timing every CPU op in the engine for `threads` (the engine Accelerators with that setting share). */
export function profileBegin(engine = {}) {
  return callEngine(engine, "profileBegin");
}

/** Stop timing: `{op: {calls, ms}}` of CPU ops since profileBegin(). */
export function profileTake(engine = {}) {
  return callEngine(engine, "profileTake");
}

/** Entry point: picks a device, loads models onto it in the engine Worker, caches their weights by content id. */
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
