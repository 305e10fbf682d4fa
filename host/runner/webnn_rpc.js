// Runner RPCs for WebNN (the W3C Web Neural Network API), with no dependency on the SDK: they
// tell the SDK's WebNN backend what the browser really offers, and let tests run a real graph.
//   webnnDevices()      which deviceTypes createContext() accepts, with the reason for the others
//   webnnCapabilities() opSupportLimits(), the interface members, and an end-to-end API check
//   webnnMlp(args)      softmax(layerNorm(gelu(x·W + b))) through MLContext.dispatch/MLTensor

const DEVICE_TYPES = ["cpu", "gpu", "npu"];

function errorText(e) {
  return `${(e && e.name) || "Error"}: ${(e && e.message) || e}`;
}

async function tryStep(steps, name, fn) {
  try {
    const value = await fn();
    steps.push({ step: name, ok: true, ...(value === undefined ? {} : { value }) });
    return value;
  } catch (e) {
    steps.push({ step: name, ok: false, error: errorText(e) });
    return undefined;
  }
}

/**
 * One deviceType (undefined: no options): does createContext() resolve, does a one-op graph
 * build, dispatch and read back the right numbers, and where does it run (`graph.devices`).
 */
async function probeDevice(deviceType) {
  const entry = { deviceType: deviceType ?? "default", context: false, runs: false };
  let context;
  try {
    context = await navigator.ml.createContext(deviceType ? { deviceType } : {});
    entry.context = true;
  } catch (e) {
    entry.reason = errorText(e);
    return entry;
  }
  try {
    const b = new MLGraphBuilder(context);
    const x = b.input("x", { dataType: "float32", shape: [2] });
    const graph = await b.build({ y: b.add(x, x) });
    entry.graphDevices = Array.isArray(graph.devices) ? [...graph.devices] : null;
    const xT = await context.createTensor({ dataType: "float32", shape: [2], writable: true });
    const yT = await context.createTensor({ dataType: "float32", shape: [2], readable: true });
    context.writeTensor(xT, new Float32Array([1.5, -2]));
    context.dispatch(graph, { x: xT }, { y: yT });
    const y = new Float32Array(await context.readTensor(yT));
    entry.runs = y[0] === 3 && y[1] === -4;
    if (!entry.runs) entry.reason = `x+x gave [${y}] for x=[1.5,-2]`;
    graph.destroy();
  } catch (e) {
    entry.reason = `graph: ${errorText(e)}`;
  } finally {
    context.destroy();
  }
  return entry;
}

/** Every deviceType (and no options), as `probeDevice` reports them. */
async function webnnDevices() {
  if (!("ml" in navigator)) return { present: false, reason: "navigator.ml is missing", devices: [] };
  const devices = [];
  for (const deviceType of [undefined, ...DEVICE_TYPES]) devices.push(await probeDevice(deviceType));
  return { present: true, devices };
}

function members(name) {
  const ctor = self[name];
  if (typeof ctor !== "function") return null;
  return Object.getOwnPropertyNames(ctor.prototype).filter((m) => m !== "constructor").sort();
}

// opSupportLimits() returns dictionaries (plain objects): a JSON round trip is a faithful copy.
function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

/** Try the descriptor spellings: current spec `shape`, then the older `dimensions`. */
function descriptors(dataType, shape) {
  return { shape: { dataType, shape }, dimensions: { dataType, dimensions: shape } };
}

/**
 * Every API question the SDK's WebNN backend needs answered, each as a step that records what
 * worked and the exact error of what did not. Returns plain JSON.
 */
async function webnnCapabilities({ deviceType = "cpu" } = {}) {
  const report = {
    userAgent: navigator.userAgent,
    present: "ml" in navigator,
    interfaces: {},
    steps: [],
  };
  if (!report.present) return { ...report, reason: "navigator.ml is missing" };
  for (const name of ["ML", "MLContext", "MLGraphBuilder", "MLGraph", "MLOperand", "MLTensor"]) {
    report.interfaces[name] = members(name);
  }
  report.float16Array = typeof self.Float16Array === "function";
  report.devices = (await webnnDevices()).devices;
  const steps = report.steps;
  let context;
  await tryStep(steps, `createContext({deviceType:"${deviceType}"})`, async () => {
    context = await navigator.ml.createContext({ deviceType });
    return "MLContext";
  });
  if (!context) return report;
  report.opSupportLimits = await tryStep(steps, "context.opSupportLimits()", () => plain(context.opSupportLimits()));
  if (steps.at(-1).ok) delete steps.at(-1).value;

  // Descriptor spelling, for builder.input and context.createTensor.
  for (const [spelling, desc] of Object.entries(descriptors("float32", [2, 3]))) {
    await tryStep(steps, `builder.input(name, {dataType, ${spelling}})`, () => {
      const op = new MLGraphBuilder(context).input("x", desc);
      return { operandShape: op.shape, operandDataType: op.dataType };
    });
    await tryStep(steps, `context.createTensor({dataType, ${spelling}, readable, writable})`, async () => {
      const t = await context.createTensor({ ...desc, readable: true, writable: true });
      const info = { shape: t.shape, dataType: t.dataType, readable: t.readable, writable: t.writable };
      t.destroy();
      return info;
    });
  }

  // A small graph touching every op the SDK needs, with the outputs read back.
  const b = new MLGraphBuilder(context);
  const f32 = (shape) => ({ dataType: "float32", shape });
  const x = b.input("x", f32([2, 3]));
  const w = await tryStep(steps, "builder.constant(desc, Float32Array)", () => b.constant(f32([3, 4]), new Float32Array([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1])));
  await tryStep(steps, "builder.constant(desc, Float32Array.subarray(1)) (non-zero byteOffset)", () => {
    b.constant(f32([3]), new Float32Array([9, 1, 2, 3]).subarray(1));
    return "accepted";
  });
  await tryStep(steps, "builder.constant(dataType, number) (scalar overload)", () => {
    const s = b.constant("float32", 2);
    return { shape: s.shape, dataType: s.dataType };
  });
  const bias = b.constant(f32([4]), new Float32Array([0.5, -0.5, 0.25, 0]));
  const outputs = {};
  // Records the operand's shape and dataType as the step's value; returns the operand.
  const op = async (name, fn) => {
    let operand;
    await tryStep(steps, name, () => {
      operand = fn();
      outputs[name.split("(")[0]] = operand;
      return { shape: operand.shape, dataType: operand.dataType };
    });
    return operand;
  };
  const mm = await op("matmul(x, w)", () => b.matmul(x, w));
  const add = mm && await op("add(mm, bias) (broadcast [4])", () => b.add(mm, bias));
  const gelu = add && await op("gelu(add)", () => b.gelu(add));
  const ln = gelu && await op("layerNormalization(gelu, {scale, bias, axes:[1], epsilon})", () => b.layerNormalization(gelu, {
    scale: b.constant(f32([4]), new Float32Array([1, 1, 1, 1])),
    bias: b.constant(f32([4]), new Float32Array([0, 0, 0, 0])),
    axes: [1],
    epsilon: 1e-5,
  }));
  await tryStep(steps, "layerNormalization(x) (default axes)", () => b.layerNormalization(x).shape);
  const sm = ln && await op("softmax(ln, 1)", () => b.softmax(ln, 1));
  await tryStep(steps, "softmax(x) (no axis)", () => b.softmax(x).shape);
  const mul = await op("mul(x, x)", () => b.mul(x, x));
  await op("transpose(x, {permutation:[1,0]})", () => b.transpose(x, { permutation: [1, 0] }));
  await op("reshape(x, [3, 2])", () => b.reshape(x, [3, 2]));
  const table = b.constant(f32([4, 2]), new Float32Array([0, 1, 10, 11, 20, 21, 30, 31]));
  const gathers = {};
  for (const [dataType, Ctor] of [["int32", Int32Array], ["int64", BigInt64Array], ["uint32", Uint32Array]]) {
    const data = dataType === "int64" ? new BigInt64Array([3n, 0n, 2n]) : new Ctor([3, 0, 2]);
    gathers[dataType] = await tryStep(steps, `gather(table, ${dataType} indices constant, {axis:0})`, () => {
      const g = b.gather(table, b.constant({ dataType, shape: [3] }, data), { axis: 0 });
      return { shape: g.shape, dataType: g.dataType, operand: g };
    });
    if (gathers[dataType]) {
      outputs[`gather_${dataType}`] = gathers[dataType].operand;
      delete gathers[dataType].operand;
    }
  }
  await op("gather_ids(table, int32 input operand ids)", () => b.gather(table, b.input("ids", { dataType: "int32", shape: [3] })));
  await op("cast_ids64(int64 input operand ids64, 'int32')", () => b.cast(b.input("ids64", { dataType: "int64", shape: [2] }), "int32"));
  const shared = await tryStep(steps, "context.createConstantTensor(desc, Float32Array) then builder.constant(tensor)", async () => {
    const t = await context.createConstantTensor(f32([2, 3]), new Float32Array([1, 1, 1, 2, 2, 2]));
    outputs.constTensorAdd = b.add(x, b.constant(t));
    return { constant: t.constant, shape: t.shape };
  });
  if (!shared) delete outputs.constTensorAdd;

  const named = {};
  for (const [k, v] of Object.entries(outputs)) if (v) named[k] = v;
  const graph = await tryStep(steps, `builder.build({${Object.keys(named).join(", ")}})`, () => b.build(named));
  if (graph) {
    steps.at(-1).value = "MLGraph";
    await tryStep(steps, "builder.build() a second time on the same builder", () => b.build({ out: mul }).then(() => "allowed"));
    await runGraph(context, graph, named, steps);
  }
  await performanceProbe(context, steps);
  context.destroy();
  return report;
}

async function runGraph(context, graph, named, steps) {
  const xData = new Float32Array([1, 2, 3, -1, 0.5, 0]);
  const xT = await tryStep(steps, "createTensor x (writable)", () => context.createTensor({ dataType: "float32", shape: [2, 3], writable: true }));
  if (!xT) return;
  await tryStep(steps, "context.writeTensor(x, Float32Array)", () => context.writeTensor(xT, xData));
  const inputs = { x: xT };
  await tryStep(steps, "createTensor int32 ids + writeTensor(Int32Array [1,3,0])", async () => {
    inputs.ids = await context.createTensor({ dataType: "int32", shape: [3], writable: true });
    context.writeTensor(inputs.ids, new Int32Array([1, 3, 0]));
  });
  await tryStep(steps, "createTensor int64 ids64 + writeTensor(BigInt64Array [7,-2])", async () => {
    inputs.ids64 = await context.createTensor({ dataType: "int64", shape: [2], writable: true });
    context.writeTensor(inputs.ids64, new BigInt64Array([7n, -2n]));
  });
  const outs = {};
  for (const [k, v] of Object.entries(named)) {
    outs[k] = await context.createTensor({ dataType: v.dataType, shape: v.shape, readable: true });
  }
  const dispatched = await tryStep(steps, "context.dispatch(graph, inputs, outputs)", () => {
    const r = context.dispatch(graph, inputs, outs);
    return r === undefined ? "returns undefined" : String(r);
  });
  if (dispatched !== undefined) {
    await tryStep(steps, "dispatch with an extra input the graph does not have", () => context.dispatch(graph, { ...inputs, extra: xT }, outs));
    await tryStep(steps, "dispatch with one output left out", () => {
      const fewer = { ...outs };
      delete fewer.mul;
      context.dispatch(graph, inputs, fewer);
    });
  }
  steps.push({ step: "graph.devices", ok: true, value: plain(graph.devices ?? null) });
  const values = {};
  for (const [k, t] of Object.entries(outs)) {
    const v = await tryStep(steps, `await context.readTensor(${k})`, async () => {
      const buf = await context.readTensor(t);
      const Ctor = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, uint32: Uint32Array }[t.dataType] || Float32Array;
      return Array.from(new Ctor(buf), Number);
    });
    if (v) values[k] = v;
  }
  await tryStep(steps, "context.readTensor(t, outputBuffer)", async () => {
    const dst = new Float32Array(outs.softmax ? 8 : 0);
    if (outs.softmax) await context.readTensor(outs.softmax, dst);
    return Array.from(dst);
  });
  await tryStep(steps, "readTensor on a tensor created without readable:true", async () => {
    await context.readTensor(xT);
    return "allowed";
  });
  steps.push({ step: "values (x = [[1,2,3],[-1,0.5,0]])", ok: true, value: values });
  for (const t of [...Object.values(inputs), ...Object.values(outs)]) t.destroy();
  graph.destroy();
}

// One [m,k]x[k,n] matmul dispatched repeatedly: the order of magnitude of what WebNN gives here.
async function performanceProbe(context, steps) {
  const [m, k, n] = [128, 384, 1536];
  await tryStep(steps, `timing: matmul [${m},${k}]x[${k},${n}] constant weights`, async () => {
    const b = new MLGraphBuilder(context);
    const x = b.input("x", { dataType: "float32", shape: [m, k] });
    const w = b.constant({ dataType: "float32", shape: [k, n] }, new Float32Array(k * n).fill(0.01));
    const t0 = performance.now();
    const graph = await b.build({ y: b.matmul(x, w) });
    const buildMs = performance.now() - t0;
    const xT = await context.createTensor({ dataType: "float32", shape: [m, k], writable: true });
    const yT = await context.createTensor({ dataType: "float32", shape: [m, n], readable: true });
    context.writeTensor(xT, new Float32Array(m * k).fill(1));
    context.dispatch(graph, { x: xT }, { y: yT });
    await context.readTensor(yT);
    const reps = 10;
    const t1 = performance.now();
    for (let i = 0; i < reps; i++) context.dispatch(graph, { x: xT }, { y: yT });
    const out = new Float32Array(await context.readTensor(yT));
    const ms = (performance.now() - t1) / reps;
    graph.destroy();
    xT.destroy();
    yT.destroy();
    return { buildMs, msPerDispatch: ms, gflops: (2 * m * k * n) / ms / 1e6, y00: out[0] };
  });
}

/**
 * softmax(layerNorm(gelu(x·W + b)), last axis) for x [m,k], W [k,n], b [n], gamma/beta [n]
 * (plain number arrays, row-major), built once and run through MLTensor + dispatch.
 */
async function webnnMlp({ x, m, k, n, w, b, gamma, beta, epsilon = 1e-5, deviceType = "cpu" }) {
  if (!("ml" in navigator)) throw new Error("navigator.ml is missing");
  const context = await navigator.ml.createContext({ deviceType });
  try {
    const f32 = (shape) => ({ dataType: "float32", shape });
    const g = new MLGraphBuilder(context);
    const xIn = g.input("x", f32([m, k]));
    const h = g.gelu(g.add(g.matmul(xIn, g.constant(f32([k, n]), new Float32Array(w))), g.constant(f32([n]), new Float32Array(b))));
    const ln = g.layerNormalization(h, {
      scale: g.constant(f32([n]), new Float32Array(gamma)),
      bias: g.constant(f32([n]), new Float32Array(beta)),
      axes: [1],
      epsilon,
    });
    const graph = await g.build({ y: g.softmax(ln, 1) });
    const xT = await context.createTensor({ ...f32([m, k]), writable: true });
    const yT = await context.createTensor({ ...f32([m, n]), readable: true });
    context.writeTensor(xT, new Float32Array(x));
    context.dispatch(graph, { x: xT }, { y: yT });
    const y = Array.from(new Float32Array(await context.readTensor(yT)));
    graph.destroy();
    xT.destroy();
    yT.destroy();
    return { y, shape: [m, n] };
  } finally {
    context.destroy();
  }
}

export const webnnRpc = { webnnDevices, webnnCapabilities, webnnMlp };
