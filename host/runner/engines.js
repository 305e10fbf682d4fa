// Embedding engines the benchmark runs in the page, behind one shape:
//   { adapter, embed(workload) -> Float32Array[] | number[][], dispose() }
// `workload` carries both the texts and our tokenizer's ids for them, so engines without a
// tokenizer of their own (onnxruntime-web) run on exactly the ids the native backends get.
import * as sdk from "/sdk/index.js";

const ORT_DIST = "/vendor/onnxruntime-web/dist/";

// Thrown when the SDK cannot give the requested device: the benchmark records the backend as
// unavailable with the SDK's own reason instead of timing anything.
class DeviceUnavailable extends Error {}

async function oursEngine(device, model, { threads, relaxedSimd, quantize } = {}) {
  let acc;
  try {
    acc = await sdk.Accelerator.create({ prefer: [device], threads, relaxedSimd });
  } catch (e) {
    throw new DeviceUnavailable(String((e && e.message) || e));
  }
  if (acc.device !== device) {
    acc.dispose();
    throw new DeviceUnavailable(`asked for ${device}, the SDK chose ${acc.device}`);
  }
  // Embedding cache off: the benchmark repeats the same texts, and must time the model, not a lookup.
  const m = await acc.load(model.baseUrl, { weights: model.weights, maxTokens: model.maxTokens, embeddingCache: 0, quantize });
  const { build, threads: used } = acc.info();
  return {
    adapter: { ...acc.adapter, name: `ipfs-accelerate ${device}: ${acc.adapter.name} (${build} build, ${used} thread(s))` },
    embed: (w) => m.embed(w.texts),
    dispose: () => acc.dispose(),
  };
}

// onnxruntime-web's wasm backend on the same ONNX file; pooling as everywhere else.
// `threads`: its pool size (undefined: its own default, which depends on the core count).
async function ortWebEngine(model, threads) {
  const ort = await import(`${ORT_DIST}ort.wasm.bundle.min.mjs`);
  ort.env.wasm.wasmPaths = ORT_DIST;
  if (threads !== undefined) ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(model.baseUrl + model.onnx, { executionProviders: ["wasm"] });
  const meta = session.outputMetadata || [];
  const byShape = session.outputNames.find((n, i) => meta[i] && meta[i].shape && meta[i].shape.length === 3 && meta[i].type === "float32");
  const output = byShape || session.outputNames[0];
  return {
    adapter: { name: `onnxruntime-web ${ort.env.versions.web} wasm, ${ort.env.wasm.numThreads || 1} thread(s)`, backend: "onnxruntime-web-wasm", deviceType: "Cpu" },
    async embed(w) {
      const batch = w.ids.length;
      const seq = Math.max(...w.ids.map((s) => s.length));
      const ids = new BigInt64Array(batch * seq);
      const mask = new BigInt64Array(batch * seq);
      w.ids.forEach((s, b) => s.forEach((id, t) => { ids[b * seq + t] = BigInt(id); mask[b * seq + t] = 1n; }));
      const feeds = {};
      for (const name of session.inputNames) {
        const data = name === "input_ids" ? ids : name === "attention_mask" ? mask : new BigInt64Array(batch * seq);
        feeds[name] = new ort.Tensor("int64", data, [batch, seq]);
      }
      const result = await session.run(feeds);
      const hidden = result[output];
      const width = hidden.dims[2];
      return w.ids.map((s, b) => meanPoolNormalize(hidden.data, b * seq * width, s.length, width));
    },
    dispose: () => session.release(),
  };
}

// transformers.js' feature-extraction pipeline (its own tokenizer), models served by the host.
async function transformersJsEngine(model, threads) {
  const tf = await import("/vendor/transformers/dist/transformers.web.js");
  if (threads !== undefined) tf.env.backends.onnx.wasm.numThreads = threads;
  tf.env.allowRemoteModels = false;
  tf.env.allowLocalModels = true;
  tf.env.localModelPath = "/hf/";
  tf.env.useBrowserCache = false;
  tf.env.backends.onnx.wasm.wasmPaths = {
    mjs: `${ORT_DIST}ort-wasm-simd-threaded.asyncify.mjs`,
    wasm: `${ORT_DIST}ort-wasm-simd-threaded.asyncify.wasm`,
  };
  const extractor = await tf.pipeline("feature-extraction", model.hfId, { device: "wasm", dtype: model.hfDtype });
  return {
    adapter: { name: `transformers.js ${tf.env.version} (onnxruntime-web wasm, ${model.hfDtype}, ${tf.env.backends.onnx.wasm.numThreads ?? "default"} thread(s))`, backend: "transformers-js-wasm", deviceType: "Cpu" },
    async embed(w) {
      const out = await extractor(w.texts, { pooling: "mean", normalize: true });
      return out.tolist();
    },
    dispose: () => extractor.dispose(),
  };
}

function meanPoolNormalize(data, start, tokens, width) {
  const sum = new Float64Array(width);
  for (let t = 0; t < tokens; t++) for (let i = 0; i < width; i++) sum[i] += data[start + t * width + i];
  let norm = 0;
  for (let i = 0; i < width; i++) { sum[i] /= Math.max(tokens, 1); norm += sum[i] * sum[i]; }
  norm = Math.max(Math.sqrt(norm), 1e-12);
  return Array.from(sum, (v) => v / norm);
}

export async function makeEngine(engine, model) {
  // "-threads": as many threads as the machine has cores, for ours and the incumbents alike.
  const cores = navigator.hardwareConcurrency || 1;
  switch (engine) {
    case "ours-cpu": return oursEngine("cpu", model, { threads: 1, relaxedSimd: false });
    case "ours-cpu-relaxed": return oursEngine("cpu", model, { threads: 1 });
    case "ours-cpu-threads": return oursEngine("cpu", model, { threads: cores });
    // int8 linear layers, f32 weights quantized at load: one thread plain SIMD, and the best build.
    case "ours-cpu-int8": return oursEngine("cpu", model, { threads: 1, relaxedSimd: false, quantize: "int8" });
    case "ours-cpu-threads-int8": return oursEngine("cpu", model, { threads: cores, quantize: "int8" });
    case "ort-web-threads": return ortWebEngine(model, cores);
    case "transformers-js-threads": return transformersJsEngine(model, cores);
    case "ours-webgpu": return oursEngine("webgpu", model);
    case "ours-webnn": return oursEngine("webnn", model);
    case "ort-web": return ortWebEngine(model);
    case "transformers-js": return transformersJsEngine(model);
    default: throw new Error(`unknown engine ${JSON.stringify(engine)}`);
  }
}

// Load, first call (cold), then warm-up and timed samples per workload; embeddings of the
// reference sentences for the accuracy check. Software GPU adapters run only the first workload.
export async function benchEmbeddings({ engine, model, workloads, reference, warmup, samples }) {
  const t0 = performance.now();
  let e;
  try {
    e = await makeEngine(engine, model);
  } catch (err) {
    if (err instanceof DeviceUnavailable) return { unavailable: err.message, userAgent: navigator.userAgent };
    throw err;
  }
  const loadMs = performance.now() - t0;
  try {
    const c0 = performance.now();
    await e.embed(workloads[0]);
    const coldMs = performance.now() - c0;
    const results = [];
    for (const [i, w] of workloads.entries()) {
      if (e.adapter.software && i > 0) {
        results.push({ label: w.label, skipped: "software adapter (CPU-emulated GPU): only the smallest workload is run" });
        continue;
      }
      const reps = e.adapter.software ? Math.min(samples, 3) : samples;
      for (let k = 0; k < warmup; k++) await e.embed(w);
      const ms = [];
      for (let k = 0; k < reps; k++) {
        const s = performance.now();
        await e.embed(w);
        ms.push(performance.now() - s);
      }
      results.push({ label: w.label, samplesMs: ms });
    }
    const embeddings = (await e.embed(reference)).map((v) => Array.from(v));
    return { adapter: e.adapter, userAgent: navigator.userAgent, loadMs, coldMs, workloads: results, referenceEmbeddings: embeddings };
  } finally {
    e.dispose();
  }
}
