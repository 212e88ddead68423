// ONNX Runtime (npm onnxruntime-node, CPU provider) on torchvision's models exported by
// bench/zoo_onnx.py (or bench/threads_onnx.py's, whose <name>.json give the shapes): one
// intra-op thread (THREADS=n for more) and one inter-op thread, sequential execution, every
// graph optimisation, as ../shared/peers runs it. Per model: a warm-up, then rounds of calls until
// MIN_SECONDS have passed (at least 5 rounds); the time is the median of the rounds' means.
//
//   ORT_NODE_DIR=/tmp/peers-work/ort taskset -c 1 node bench/zoo_ort.mjs /tmp/typenet-zoo-onnx
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const dir = process.argv[2] || '/tmp/typenet-zoo-onnx';
const ortDir = process.env.ORT_NODE_DIR || '/tmp/peers-work/ort';
const minSeconds = Number(process.env.MIN_SECONDS || 3);
const requireOrt = createRequire(path.join(path.resolve(ortDir), 'package.json'));
const ort = requireOrt('onnxruntime-node');
const version = requireOrt('onnxruntime-node/package.json').version;

const threads = Number(process.env.THREADS || 1);
const options = {
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`ONNX Runtime ${version} (onnxruntime-node), ${threads} intra-op thread(s); ms per call, median of rounds`);
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
  const name = file.replace(/\.onnx$/, '');
  const batch = Number(name.match(/_b(\d+)$/)[1]);
  const session = await ort.InferenceSession.create(path.join(dir, file), options);
  // Shapes from <name>.json when the exporter wrote one (bench/threads_onnx.py), else torchvision's.
  const side = path.join(dir, `${name}.json`);
  const shapes = fs.existsSync(side) ? JSON.parse(fs.readFileSync(side, 'utf8')) : { input: [batch, 3, 224, 224], output: [batch, 1000] };
  const count = (s) => s.reduce((a, b) => a * b, 1);
  const x = new ort.Tensor('float32', new Float32Array(count(shapes.input)).map(() => Math.random()), shapes.input);
  const y = new ort.Tensor('float32', new Float32Array(count(shapes.output)), shapes.output);
  const feeds = { [session.inputNames[0]]: x };
  const fetches = { [session.outputNames[0]]: y };
  for (let i = 0; i < 3; ++i) await session.run(feeds, fetches);
  let calls = 1;
  for (;;) {  // calls per round: at least 0.2 s
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; ++i) await session.run(feeds, fetches);
    if (Number(process.hrtime.bigint() - t0) / 1e9 >= 0.2) break;
    calls *= 2;
  }
  const rounds = [];
  const start = process.hrtime.bigint();
  while (rounds.length < 5 || Number(process.hrtime.bigint() - start) / 1e9 < minSeconds) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; ++i) await session.run(feeds, fetches);
    rounds.push(Number(process.hrtime.bigint() - t0) / 1e6 / calls);
  }
  console.log(`${name.padEnd(26)} ${median(rounds).toFixed(3).padStart(10)} ms`);
}
