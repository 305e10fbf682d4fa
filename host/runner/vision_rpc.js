// Image models through the npm package's public API (Accelerator.loadImageModel → model.run),
// for the browser tests and `accelerate bench --suite vision`. Pictures arrive as base64 PNG
// bytes and are handed to the model as Blobs, so the browser's own decoder reads them.
import * as sdk from "/sdk/index.js";

function pngBlob(base64) {
  return new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type: "image/png" });
}

async function withImageModel(baseUrl, { prefer = ["cpu"], threads, relaxedSimd } = {}, body) {
  const t0 = performance.now();
  const acc = await sdk.Accelerator.create({ prefer, threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined });
  try {
    const model = await acc.loadImageModel(baseUrl);
    const facts = {
      device: acc.device, info: acc.info(), adapter: acc.adapter, loadMs: performance.now() - t0, name: model.name,
      inputSize: model.inputSize, embeddingWidth: model.embeddingWidth, loadReport: model.loadReport,
    };
    return { ...facts, ...(await body(model)) };
  } finally {
    acc.dispose();
  }
}

export const visionRpc = {
  // Two models of different kinds loaded through one Accelerator (the package's Worker), one
  // after another or both at once (`parallel`), from an emptied IndexedDB cache (`cold`: the
  // files come over the network and are stored) or from the cache. Timed from the first
  // request to both models ready.
  async parallelLoads(imageUrl, textUrl, { parallel = false, cold = false, prefer = ["cpu"] } = {}) {
    const acc = await sdk.Accelerator.create({ prefer });
    try {
      if (cold) await acc.cache.clear();
      const t0 = performance.now();
      const image = () => acc.loadImageModel(imageUrl);
      const text = () => acc.load(textUrl);
      const models = parallel ? await Promise.all([image(), text()]) : [await image(), await text()];
      return { ms: performance.now() - t0, networkBytes: models.map((m) => m.loadReport.networkBytes), device: acc.device };
    } finally {
      acc.dispose();
    }
  },

  // Every picture in one `run([...])`: each heatmap and CLS vector as plain arrays.
  async seeWithApi(baseUrl, pngs, options = {}) {
    return withImageModel(baseUrl, options, async (model) => {
      const t0 = performance.now();
      const results = await model.run(pngs.map(pngBlob));
      return {
        runMs: performance.now() - t0,
        results: results.map((r) => ({
          width: r.heatmap.width, height: r.heatmap.height, values: Array.from(r.heatmap.data), embedding: Array.from(r.embedding),
        })),
      };
    });
  },

  // The message `run` rejects with for each kind of bad input.
  async imageErrorsOf(baseUrl, options = {}) {
    return withImageModel(baseUrl, options, async (model) => {
      const inputs = {
        notAnImage: new Blob(["definitely not a picture"], { type: "image/png" }),
        empty: { data: new Uint8ClampedArray(0), width: 0, height: 0 },
        shortPixels: { data: new Uint8ClampedArray(10), width: 4, height: 4 },
        aString: "cat.png",
      };
      const errors = {};
      for (const [name, input] of Object.entries(inputs)) {
        try {
          await model.run(input);
          errors[name] = null;
        } catch (e) {
          errors[name] = { name: e?.name, message: String(e?.message ?? e) };
        }
      }
      return { errors };
    });
  },

  // Benchmark: load once; the first call; then `warmup` + `samples` runs of each batch.
  // `engine`: the build ({threads, relaxedSimd}).
  async benchImages(baseUrl, batches, { warmup = 1, samples = 5, prefer, engine = {} } = {}) {
    return withImageModel(baseUrl, { prefer, ...engine }, async (model) => {
      const cases = {};
      let firstMs = null;
      for (const [label, pngs] of Object.entries(batches)) {
        const blobs = pngs.map(pngBlob);
        const ms = [];
        for (let i = 0; i < warmup + samples; i++) {
          const t0 = performance.now();
          await model.run(blobs);
          if (firstMs === null) firstMs = performance.now() - t0;
          if (i >= warmup) ms.push(performance.now() - t0);
        }
        cases[label] = ms;
      }
      return { firstMs, cases };
    });
  },
};
