// Text generation through the npm package's public API (Accelerator.loadLanguageModel →
// model.generate), for the browser tests and `accelerate bench --suite llm`.
import * as sdk from "/sdk/index.js";

async function withModel(baseUrl, prefer, body, { threads, relaxedSimd } = {}) {
  const t0 = performance.now();
  const acc = await sdk.Accelerator.create({ prefer, threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined });
  try {
    const progress = [];
    const model = await acc.loadLanguageModel(baseUrl, { onProgress: (p) => progress.push(p) });
    const loadMs = performance.now() - t0;
    const facts = {
      device: acc.device, info: acc.info(), adapter: acc.adapter, loadMs, name: model.name, contextLength: model.contextLength,
      hasChatTemplate: model.hasChatTemplate, weightBytes: model.weightBytes, loadReport: model.loadReport,
      progressEvents: progress.length,
    };
    return { ...facts, ...(await body(model)), wasmMemoryBytes: await acc.wasmMemoryBytes() };
  } finally {
    acc.dispose();
  }
}

export const llmRpc = {
  // One generation, streaming into `pieces`. `abortAfterPieces`: abort from a separate task
  // (setTimeout) once that many pieces came, as a page's stop button would.
  async generateWithApi(baseUrl, prompt, { prefer = ["cpu"], abortAfterPieces, stopAfterPieces, ...options } = {}) {
    return withModel(baseUrl, prefer, async (model) => {
      const pieces = [];
      const controller = new AbortController();
      const onToken = (piece) => {
        pieces.push(piece);
        if (pieces.length === abortAfterPieces) setTimeout(() => controller.abort(), 0);
        if (pieces.length === stopAfterPieces) return false;
      };
      try {
        const result = await model.generate(prompt, { ...options, onToken, signal: controller.signal });
        return { result, pieces, tokenized: await model.tokenize(typeof prompt === "string" ? prompt : "") };
      } catch (e) {
        return { error: { name: e && e.name, message: String(e && e.message || e), result: e && e.result || null }, pieces };
      }
    });
  },

  // The same generation through `for await (… of model.stream())`: every piece, the result
  // (the generator's return value), and with `breakAfterPieces` the loop left early.
  async streamWithApi(baseUrl, prompt, { prefer = ["cpu"], breakAfterPieces, ...options } = {}) {
    return withModel(baseUrl, prefer, async (model) => {
      const pieces = [];
      const iterator = model.stream(prompt, options);
      let step = await iterator.next();
      while (!step.done) {
        pieces.push(step.value);
        if (pieces.length === breakAfterPieces) {
          await iterator.return();
          // The model is free again at once: a second generation runs to its end.
          const after = await model.generate(prompt, { maxTokens: 2, stopAtEos: false });
          return { pieces, left: true, after };
        }
        step = await iterator.next();
      }
      return { pieces, result: step.value };
    });
  },

  // The message a failing load or generate rejects with (null when it succeeded).
  async llmErrorOf(baseUrl, prompt, { prefer = ["cpu"], load = {}, ...options } = {}) {
    try {
      const acc = await sdk.Accelerator.create({ prefer });
      try {
        const model = await acc.loadLanguageModel(baseUrl, load);
        await model.generate(prompt, options);
        return null;
      } finally {
        acc.dispose();
      }
    } catch (e) {
      return { name: e && e.name, message: String(e && e.message || e) };
    }
  },

  // Benchmark: load once, then `warmup` + `samples` greedy generations of `maxTokens`.
  async benchGenerate(baseUrl, prompt, { prefer = ["cpu"], engine, maxTokens = 32, warmup = 1, samples = 3, activations = "f32" } = {}) {
    return withModel(baseUrl, prefer, async (model) => {
      const runs = [];
      for (let i = 0; i < warmup + samples; i++) {
        const r = await model.generate(prompt, { maxTokens, stopAtEos: false, activations });
        if (i >= warmup) runs.push(r);
      }
      return { runs };
    }, engine);
  },
};
