// The dedicated Worker behind the package's entry (index.js): it runs the engine (engine.js)
// and answers the page's calls. Messages in:
//   {kind: "call", id, target (a handle, or 0 for the module), method, args, callbacks, signal}
//   {kind: "abort", id, reason}     the page's AbortSignal fired for call `id`
//   {kind: "reply", id, value}      what the page's onToken returned
// Messages out: {kind: "result", id, value | error} and {kind: "callback", id, name, value}.
// Objects the engine returns (accelerators, models) stay here; the page gets a handle and a
// snapshot of their fixed properties.
import * as engine from "./engine.js";

/** What the page may call, per kind of object. */
const METHODS = {
  module: ["init", "info", "version", "cpuFlavour", "deviceInfo", "runKernelCase", "wasmMemoryBytes", "profileBegin", "profileTake", "create"],
  accelerator: ["load", "loadLanguageModel", "loadImageModel", "loadVoiceDetector", "loadSpeechRecognizer", "precompileShaders", "memory", "dispose", "cache.list", "cache.delete", "cache.clear", "cache.usage"],
  embedding: ["embed", "cacheStats", "stageFirst", "stageNext", "dispose"],
  language: ["tokenize", "generate", "dispose"],
  image: ["run", "dispose"],
  voice: ["probabilities", "segments", "dispose"],
  speech: ["transcribe", "encode", "dispose"],
};

const objects = new Map();
let nextHandle = 1;
const controllers = new Map();
const pendingReplies = new Map();

/** Register an engine object and describe it for the page. */
function describe(value) {
  const kind = value instanceof engine.Accelerator ? "accelerator"
    : value instanceof engine.EmbeddingModel ? "embedding"
      : value instanceof engine.LanguageModel ? "language"
        : value instanceof engine.ImageModel ? "image"
          : value instanceof engine.VoiceDetector ? "voice"
            : value instanceof engine.SpeechRecognizer ? "speech" : null;
  if (kind === null) return { plain: value };
  const handle = nextHandle++;
  objects.set(handle, { kind, value });
  const props =
    kind === "accelerator"
      ? { device: value.device, adapter: value.adapter, skipped: value.skipped, cacheDisabledReason: value.cache.disabledReason }
      : kind === "embedding"
        ? { dimensions: value.dimensions, maxTokens: value.maxTokens, name: value.name, loadReport: value.loadReport }
        : kind === "language"
          ? { name: value.name, contextLength: value.contextLength, hasChatTemplate: value.hasChatTemplate, weightBytes: value.weightBytes, loadReport: value.loadReport }
          : kind === "image"
            ? { name: value.name, inputSize: value.inputSize, embeddingWidth: value.embeddingWidth, loadReport: value.loadReport }
            : { name: value.name, loadReport: value.loadReport };
  return { object: { handle, kind, props } };
}

/** The function `method` names on `target`, bound to it. */
function resolve(target, method) {
  if (target === 0) {
    if (!METHODS.module.includes(method)) throw new TypeError(`unknown function ${method}`);
    return method === "create" ? (options) => engine.Accelerator.create(options) : engine[method];
  }
  const entry = objects.get(target);
  if (!entry) throw new Error("this object was disposed");
  if (!METHODS[entry.kind].includes(method)) throw new TypeError(`unknown method ${method}`);
  const [owner, name] = method.startsWith("cache.") ? [entry.value.cache, method.slice(6)] : [entry.value, method];
  return owner[name].bind(owner);
}

/** The page's callbacks and signal, rebuilt here as functions and an AbortSignal. */
function withCallbacks(id, args, callbacks, signal) {
  if (callbacks.length === 0 && !signal) return args;
  const options = { ...(args.at(-1) ?? {}) };
  for (const name of callbacks) {
    options[name] = (value) => {
      self.postMessage({ kind: "callback", id, name, value });
      // Only onToken's answer matters (false stops); the others are notifications.
      if (name !== "onToken") return undefined;
      return new Promise((resolve) => pendingReplies.set(id, resolve));
    };
  }
  if (signal) {
    const controller = new AbortController();
    controllers.set(id, controller);
    options.signal = controller.signal;
  }
  return [...args.slice(0, -1), options];
}

async function call({ id, target, method, args, callbacks = [], signal = false }) {
  try {
    const fn = resolve(target, method);
    const value = await fn(...withCallbacks(id, args, callbacks, signal));
    if (method === "dispose") objects.delete(target);
    self.postMessage({ kind: "result", id, value: describe(value) });
  } catch (e) {
    self.postMessage({ kind: "result", id, error: { name: e?.name ?? "Error", message: e?.message ?? String(e), result: e?.result } });
  } finally {
    controllers.delete(id);
    pendingReplies.delete(id);
  }
}

self.onmessage = ({ data }) => {
  if (data.kind === "call") call(data);
  else if (data.kind === "abort") controllers.get(data.id)?.abort(data.reason);
  else if (data.kind === "reply") pendingReplies.get(data.id)?.(data.value);
};
