// onnx_bench.js: the ONNX Runtime column of `make bench` (run.lua explains the
// method), the twin of lucid_bench.lua and torch_bench.py for the inference rows.
//
//   NODE_PATH=<dir>/node_modules node onnx_bench.js <model-dir> [workload ...]
//       prints "row <workload> 1 <seconds per run> <runs per batch>" for every
//       workload named (all of them when none is), from <model-dir>/<workload>.onnx
//       (onnx_export.py writes them: the PyTorch rows' models and weights)
//   node onnx_bench.js --info
//       prints "info onnxruntime <version>"
//
// One thread: intra- and inter-op pools of 1, sequential execution, every graph
// optimisation on (ONNX Runtime's default for a deployed model). session.run is
// asynchronous in Node, so each timed run includes a promise's round trip through
// Node's event loop (a few microseconds: it shows on the batch-1 rows, as it would
// in any Node host). The clock is the process's CPU time (process.cpuUsage), as
// os.clock and time.process_time on the other sides; the timing loop is theirs.
"use strict";

const ort = require("onnxruntime-node");
const path = require("path");

const SHAPES = {
  tiny_infer: [1, 4],
  agents_infer: [1000, 32],
  mlp64_infer: [64, 784],
  mlp_infer: [1, 784],
};

const BATCH = 0.1; // seconds a timed batch should last
const BUDGET = 0.8; // seconds of timed batches per row: 3 to 7 batches

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function median(xs) {
  xs.sort((a, b) => a - b);
  const h = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? xs[h] : (xs[h - 1] + xs[h]) / 2;
}

async function measure(step) {
  async function batch(n) {
    const t0 = cpuSeconds();
    for (let i = 0; i < n; i++) await step();
    return Math.max(cpuSeconds() - t0, 1e-9);
  }
  await step(); // first run: lazy set-up, first allocations
  let n = 1;
  let t = await batch(1);
  while (t < BATCH / 2) {
    n *= 2;
    t = await batch(n);
  }
  const perIter = t / n;
  n = Math.max(1, Math.round(BATCH / perIter));
  const samples = Math.max(3, Math.min(7, Math.floor(BUDGET / (n * perIter))));
  const per = [];
  for (let i = 0; i < samples; i++) per.push((await batch(n)) / n);
  return [median(per), n];
}

// A fixed pseudo-random input (the values barely matter to the time).
function input(shape) {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let s = 12345;
  for (let i = 0; i < size; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = s / 1073741824 - 1;
  }
  return new ort.Tensor("float32", data, shape);
}

async function main(args) {
  if (args[0] === "--info") {
    let version = ort.env && ort.env.versions && ort.env.versions.node;
    try {
      version = require("onnxruntime-node/package.json").version;
    } catch (e) {
      // a package whose "exports" hide package.json: the runtime's own word, if any
    }
    console.log("info onnxruntime " + (version || "unknown"));
    return;
  }
  const dir = args[0];
  if (!dir) throw new Error("usage: onnx_bench.js <model-dir> [workload ...]");
  const names = args.length > 1 ? args.slice(1) : Object.keys(SHAPES);
  const options = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  };
  for (const name of names) {
    if (!SHAPES[name]) throw new Error("onnx_bench.js: unknown workload " + name);
    const session = await ort.InferenceSession.create(path.join(dir, name + ".onnx"), options);
    const feeds = { x: input(SHAPES[name]) };
    const [t, n] = await measure(() => session.run(feeds));
    console.log(`row ${name} 1 ${t.toExponential(6)} ${n}`);
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(String(e && e.message ? e.message : e));
  process.exitCode = 1;
});
