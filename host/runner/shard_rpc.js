// Runner RPC for sharding: serve one stage (a range of a model's layers) over a WebSocket to
// the host. Text frames carry the first stage's texts; binary frames carry activations.
import * as sdk from "/sdk/index.js";

let serving = null;

/**
 * Load this stage's part of the model (layers start..end, with the embeddings when start is
 * 0: only those tensors are fetched, refused up front past `weightBudget` bytes), connect to
 * `wsUrl`, and answer each frame with this stage's output. Returns what the stage holds.
 */
async function shardServe(wsUrl, modelUrl, start, end, last, maxTokens, weightBudget) {
  const acc = await sdk.Accelerator.create({ prefer: ["cpu"] });
  const model = await acc.load(modelUrl, {
    embeddingCache: 0,
    maxTokens: maxTokens ?? undefined,
    layers: [start, end],
    weightBudget: weightBudget ?? undefined,
  });
  const ws = new WebSocket(new URL(wsUrl, location.href).href.replace(/^http/, "ws"));
  ws.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${wsUrl}`));
  });
  ws.onmessage = async (event) => {
    try {
      let out;
      if (typeof event.data === "string") {
        out = await model.stageFirst(JSON.parse(event.data).texts, end);
        // A single stage is also the last: pool here (no further layers).
        if (last) out = await model.stageNext(out, end, end, true);
      } else {
        out = await model.stageNext(new Uint8Array(event.data), start, end, last);
      }
      ws.send(out);
    } catch (e) {
      ws.send(JSON.stringify({ error: String((e && e.message) || e) }));
    }
  };
  serving = { acc, model, ws, layers: [start, end] };
  const report = model.loadReport;
  return {
    layers: [start, end],
    // What the stage fetched of the weight file, and what its tensors take in memory.
    partBytes: report.part.weightBytes,
    networkBytes: report.networkBytes,
    heldBytes: (await acc.memory()).totalBytes,
    wasmMemoryBytes: await acc.wasmMemoryBytes(),
  };
}

export const shardRpc = { shardServe };
