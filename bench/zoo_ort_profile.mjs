// ONNX Runtime's own profile of one of bench/zoo_onnx.py's models (npm onnxruntime-node, one
// intra-op thread, every graph optimisation, enableProfiling): each node's median time over
// the calls, summed by the module path torchvision gave it (features.2.0, classifier: the
// paths tn::profile and bench/zoo_profile print), and by operator. Profiling adds its own
// cost to every node; compare blocks with blocks, in one run.
//
//   ORT_NODE_DIR=/tmp/peers-work/ort taskset -c 1 node bench/zoo_ort_profile.mjs /tmp/typenet-zoo-onnx/efficientnet_b0_b1.onnx [calls] [depth]
//
// depth: how many dotted parts of the path to keep (3: features.2.0; 2: features.2).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const file = process.argv[2];
const calls = Number(process.argv[3] || 50);
const depth = Number(process.argv[4] || 3);
if (!file) {
  console.error('usage: node bench/zoo_ort_profile.mjs MODEL.onnx [calls] [depth]');
  process.exit(2);
}
const ortDir = process.env.ORT_NODE_DIR || '/tmp/peers-work/ort';
const requireOrt = createRequire(path.join(path.resolve(ortDir), 'package.json'));
const ort = requireOrt('onnxruntime-node');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-profile-'));
const session = await ort.InferenceSession.create(file, {
  executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: path.join(dir, 'p'),
});
const name = path.basename(file, '.onnx');
const batch = Number((name.match(/_b(\d+)$/) || [0, 1])[1]);
const side = file.replace(/\.onnx$/, '.json');
const shape = fs.existsSync(side) ? JSON.parse(fs.readFileSync(side, 'utf8')).input : [batch, 3, 224, 224];
const x = new ort.Tensor('float32', new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.random()), shape);
const warm = 3;
for (let i = 0; i < warm + calls; ++i) await session.run({ [session.inputNames[0]]: x });
session.endProfiling();
const trace = JSON.parse(fs.readFileSync(path.join(dir, fs.readdirSync(dir)[0]), 'utf8'));
fs.rmSync(dir, { recursive: true });

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const runs = trace.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur).slice(warm);
const nodes = new Map();  // name -> { op, durations }
for (const e of trace) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const n = e.name.slice(0, -'_kernel_time'.length);
  if (!nodes.has(n)) nodes.set(n, { op: e.args.op_name || '', durations: [] });
  nodes.get(n).durations.push(e.dur);
}
// The module path, rebuilt from the node's name: "/features/features.2/features.2.0/block/
// block.0/block.0.0/Conv_..." is features.2.0.block.0.0 (a segment that extends the one before
// it by ".n" is that module's child n; any other lowercase name starts a child of the path so
// far), cut to `depth` dotted parts; nodes without one (layout reorders) go with the node before.
const moduleOf = (n) => {
  let full = '', prev = '', base = '';
  for (const seg of n.split('/').filter((s) => s.length)) {
    if (!/^[a-z_][a-z_0-9]*(\.\d+)*$/.test(seg)) break;  // the operator's own part of the name
    if (prev && seg.startsWith(prev + '.')) full = base + seg;
    else base = full ? full + '.' : '', full = base + seg;
    prev = seg;
  }
  return full ? full.split('.').slice(0, depth).join('.') : null;
};
const byModule = new Map(), byOp = new Map();
let last = '(start)', sum = 0;
for (const [n, { op, durations }] of nodes) {
  const t = median(durations.slice(warm));
  const m = moduleOf(n) || last;
  last = m;
  byModule.set(m, (byModule.get(m) || 0) + t);
  byOp.set(op, (byOp.get(op) || 0) + t);
  sum += t;
}
console.log(`ONNX Runtime profile of ${name}: ${calls} calls, the nodes' medians sum to ${sum.toFixed(1)} us (model_run median ${median(runs).toFixed(1)} us)`);
for (const [m, t] of byModule) console.log(`${m.padEnd(24)} ${t.toFixed(1).padStart(9)} us`);
console.log('');
for (const [op, t] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`${op.padEnd(24)} ${t.toFixed(1).padStart(9)} us`);
