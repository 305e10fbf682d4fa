// Semantic search over the shipped sentences: embed them once, then rank them by cosine
// similarity to each query. Embeddings are L2-normalised, so the dot product is the cosine.
import { Accelerator, type DeviceName, type EmbeddingModel, type LoadReport } from "ipfs-accelerate";
import sentences from "./sentences.json";

const params = new URLSearchParams(location.search);
// Where the model is hosted: a base URL with manifest.json, config.json, tokenizer.json and
// model.safetensors (`npx ipfs-accelerate manifest DIR` writes the manifest), or a hub id.
const modelUrl = params.get("model") ?? "./models/all-minilm-l6-v2/";
const devices = (params.get("device") ?? "webgpu,cpu").split(",") as DeviceName[];

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>("status");
const progress = element<HTMLProgressElement>("progress");
const query = element<HTMLInputElement>("query");
const go = element<HTMLButtonElement>("go");
const results = element<HTMLOListElement>("results");
element("count").textContent = String(sentences.length);

function show(state: "loading" | "indexing" | "ready" | "error", text: string) {
  status.dataset.state = state;
  status.textContent = text;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** "indexeddb" when no file came from the network: a second visit. */
function origin(report: LoadReport): "indexeddb" | "network" {
  return Object.values(report.files).every((o) => o === "cache") ? "indexeddb" : "network";
}

async function loadModel(acc: Accelerator): Promise<EmbeddingModel> {
  const started = performance.now();
  const model = await acc.load(modelUrl, {
    onProgress: (p) => {
      progress.max = p.total || 1;
      progress.value = p.loaded;
      show("loading", `${p.phase === "read" ? "Reading" : p.phase === "verify" ? "Verifying" : "Downloading"} ${p.file}: ${megabytes(p.loaded)} of ${megabytes(p.total)}`);
    },
  });
  const ms = Math.round(performance.now() - started);
  const from = origin(model.loadReport);
  status.dataset.origin = from;
  status.dataset.networkBytes = String(model.loadReport.networkBytes);
  status.dataset.loadMs = String(ms);
  progress.hidden = true;
  return model;
}

async function embedAll(model: EmbeddingModel): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  const batch = 32;
  for (let i = 0; i < sentences.length; i += batch) {
    show("indexing", `Indexing sentences: ${i} of ${sentences.length}`);
    vectors.push(...(await model.embed(sentences.slice(i, i + batch))));
  }
  return vectors;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function render(ranked: { text: string; score: number }[]) {
  results.replaceChildren(
    ...ranked.map(({ text, score }) => {
      const item = document.createElement("li");
      const sentence = document.createElement("span");
      sentence.className = "text";
      sentence.textContent = text;
      const similarity = document.createElement("span");
      similarity.className = "score";
      similarity.textContent = score.toFixed(3);
      item.append(sentence, similarity);
      return item;
    }),
  );
}

async function main() {
  const createStarted = performance.now();
  const acc = await Accelerator.create({ prefer: devices });
  status.dataset.createMs = String(Math.round(performance.now() - createStarted));
  const model = await loadModel(acc);
  const indexStarted = performance.now();
  const vectors = await embedAll(model);
  const indexMs = Math.round(performance.now() - indexStarted);
  const from = status.dataset.origin === "indexeddb" ? "from IndexedDB (no weights downloaded)" : `from the network (${megabytes(model.loadReport.networkBytes)})`;
  const { build, threads } = acc.info();
  status.dataset.build = build;
  // Milliseconds from navigation to a searchable page: the start-up a visitor waits through.
  status.dataset.readyMs = String(Math.round(performance.now()));
  const engine = `${acc.device}, ${build} build, ${threads} thread${threads === 1 ? "" : "s"}`;
  show("ready", `Model loaded ${from} in ${status.dataset.loadMs} ms (${engine}); ${sentences.length} sentences indexed in ${indexMs} ms.`);

  query.disabled = go.disabled = false;
  query.focus();
  element<HTMLFormElement>("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = query.value.trim();
    if (!text) return;
    const [q] = await model.embed([text]);
    const ranked = vectors
      .map((v, i) => ({ text: sentences[i], score: dot(q, v) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 5);
    render(ranked);
  });
}

main().catch((error: unknown) => show("error", `Error: ${error instanceof Error ? error.message : String(error)}`));
