// Voice activity detection through the npm package's public API (Accelerator.loadVoiceDetector
// → probabilities / segments), for the browser tests and `accelerate bench --suite audio`.
// Audio arrives as base64 WAV bytes and is handed over as a Blob: the browser decodes it.
import * as sdk from "/sdk/index.js";

function wavBlob(base64) {
  return new Blob([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], { type: "audio/wav" });
}

async function withDetector(baseUrl, { threads, relaxedSimd } = {}, body) {
  const t0 = performance.now();
  const acc = await sdk.Accelerator.create({ prefer: ["cpu"], threads: threads ?? undefined, relaxedSimd: relaxedSimd ?? undefined });
  try {
    const detector = await acc.loadVoiceDetector(baseUrl);
    const facts = { device: acc.device, info: acc.info(), adapter: acc.adapter, loadMs: performance.now() - t0, loadReport: detector.loadReport };
    return { ...facts, ...(await body(detector)) };
  } finally {
    acc.dispose();
  }
}

/** The WAV's samples at 16 kHz, decoded by the browser once. */
async function decoded(base64) {
  const bytes = await wavBlob(base64).arrayBuffer();
  return (await new OfflineAudioContext(1, 1, 16000).decodeAudioData(bytes)).getChannelData(0);
}

export const audioRpc = {
  // Probabilities and segments of one WAV file, decoded by the browser.
  async hearWithApi(baseUrl, wav, options = {}) {
    return withDetector(baseUrl, options, async (detector) => {
      const blob = wavBlob(wav);
      const t0 = performance.now();
      const probabilities = Array.from(await detector.probabilities(blob));
      const runMs = performance.now() - t0;
      return { probabilities, runMs, segments: await detector.segments(blob) };
    });
  },

  // A WAV file transcribed through `loadSpeechRecognizer` → `transcribe(blob, {onSegment})`.
  async transcribeWithApi(baseUrl, wav, { engine = {}, ...options } = {}) {
    const t0 = performance.now();
    const acc = await sdk.Accelerator.create({ prefer: engine.prefer ?? ["cpu"], threads: engine.threads ?? undefined, relaxedSimd: engine.relaxedSimd ?? undefined });
    try {
      const recognizer = await acc.loadSpeechRecognizer(baseUrl);
      const loadMs = performance.now() - t0;
      const seen = [];
      const t1 = performance.now();
      try {
        const result = await recognizer.transcribe(wavBlob(wav), { ...options, onSegment: (s) => seen.push(s) });
        return { loadMs, runMs: performance.now() - t1, loadReport: recognizer.loadReport, result, seen, info: acc.info(), device: acc.device, adapter: acc.adapter };
      } catch (e) {
        return { loadMs, error: { name: e?.name, message: String(e?.message ?? e) } };
      }
    } finally {
      acc.dispose();
    }
  },

  // The Whisper encoder over one 30 s window on the chosen device (the clip decoded once),
  // and with `clips` (base64 WAVs) each sample also transcribes them all (greedy): the
  // tokens of the last sample come back for the accuracy check.
  async benchSpeech(baseUrl, wav, { warmup = 1, samples = 3, prefer = ["webgpu"], engine = {}, clips = [] } = {}) {
    const audio = await decoded(wav);
    const pieces = await Promise.all(clips.map(decoded));
    const t0 = performance.now();
    const acc = await sdk.Accelerator.create({ prefer, threads: engine.threads ?? undefined, relaxedSimd: engine.relaxedSimd ?? undefined });
    try {
      const recognizer = await acc.loadSpeechRecognizer(baseUrl);
      const loadMs = performance.now() - t0;
      const [ms, clipMs] = [[], []];
      let tokens = [];
      for (let k = 0; k < warmup + samples; k++) {
        let t = performance.now();
        await recognizer.encode(audio, { sampleRate: 16000 });
        if (k >= warmup) ms.push(performance.now() - t);
        if (pieces.length === 0) continue;
        t = performance.now();
        tokens = [];
        for (const piece of pieces) tokens.push((await recognizer.transcribe(piece, { sampleRate: 16000 })).segments[0]?.tokens ?? []);
        if (k >= warmup) clipMs.push(performance.now() - t);
      }
      return { loadMs, ms, clipMs, tokens, device: acc.device, adapter: acc.adapter, info: acc.info() };
    } finally {
      acc.dispose();
    }
  },

  // One first transcription on a fresh Accelerator (a fresh GPU device), after compiling
  // every pipeline at load (`precompile`) or not.
  async firstSpeechCall(baseUrl, wav, { prefer = ["webgpu"], precompile = false } = {}) {
    const audio = await decoded(wav);
    const acc = await sdk.Accelerator.create({ prefer });
    try {
      const recognizer = await acc.loadSpeechRecognizer(baseUrl);
      const compiled = precompile ? await acc.precompileShaders() : { pipelines: 0, ms: 0 };
      const t = performance.now();
      const result = await recognizer.transcribe(audio, { sampleRate: 16000 });
      return { firstMs: performance.now() - t, precompileMs: compiled.ms, pipelines: compiled.pipelines, text: result.text, device: acc.device };
    } finally {
      acc.dispose();
    }
  },

  // The message each kind of bad input is refused with.
  async audioErrorsOf(baseUrl, options = {}) {
    return withDetector(baseUrl, options, async (detector) => {
      const inputs = {
        notAudio: () => detector.probabilities(new Blob(["definitely not a sound"], { type: "audio/wav" })),
        empty: () => detector.probabilities(new Float32Array(0)),
        notANumber: () => detector.probabilities(new Float32Array([0, NaN, 0])),
        badRate: () => detector.probabilities(new Float32Array(512), { sampleRate: 100 }),
        badThreshold: () => detector.segments(new Float32Array(16000), { threshold: 2 }),
        aString: () => detector.probabilities("speech.wav"),
      };
      const errors = {};
      for (const [name, call] of Object.entries(inputs)) {
        try {
          await call();
          errors[name] = null;
        } catch (e) {
          errors[name] = { name: e?.name, message: String(e?.message ?? e) };
        }
      }
      return { errors };
    });
  },

  // Benchmark: load once, then `warmup` + `samples` runs over the decoded clip.
  async benchVoice(baseUrl, wav, { warmup = 1, samples = 5, engine = {} } = {}) {
    return withDetector(baseUrl, engine, async (detector) => {
      const decoded = await new OfflineAudioContext({ numberOfChannels: 1, length: 1, sampleRate: 16000 }).decodeAudioData(
        await wavBlob(wav).arrayBuffer());
      const pcm = decoded.getChannelData(0).slice();
      const ms = [];
      let chunks = 0;
      for (let i = 0; i < warmup + samples; i++) {
        const t0 = performance.now();
        chunks = (await detector.probabilities(pcm)).length;
        if (i >= warmup) ms.push(performance.now() - t0);
      }
      return { ms, chunks, seconds: pcm.length / 16000 };
    });
  },
};
