// The engine Worker seen from the page: one per {threads, relaxedSimd} setting (or wasm
// module), calls and their answers matched by id, callbacks and abort signals carried across,
// errors rebuilt as the page's own Error types. index.js and bench.js call through it.

import { abortError } from "./engine.js";

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
    const make = objectKinds.get(kind);
    return make ? make(remote, props) : { remote, props };
  }
}

/** How an engine object of each kind ("embedding", "language") becomes the page's own object. */
const objectKinds = new Map();

/** index.js registers its model classes here (they are defined there, over this module). */
export function registerObjectKind(kind, make) {
  objectKinds.set(kind, make);
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
export function splitOptions(options, names) {
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
export async function engineFor(threads, wasm, relaxedSimd) {
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
export async function callEngine({ threads, relaxedSimd } = {}, method, args) {
  return (await engineFor(threads, undefined, relaxedSimd)).call(0, method, args);
}
