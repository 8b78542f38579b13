#!/usr/bin/env node
// Latency of one ONNX model on ONNX Runtime (npm onnxruntime-node, CPU execution provider, all
// graph optimisations), for comparison with `vigil bench model`. Prints one JSON object.
//
//   node bench/ort_model.mjs --model yolov7|yolov7-tiny|hrnet-w32|hrnet-w32-dynbatch|FILE.onnx
//                            [--batch N] [--threads 1|2] [--warmup 10] [--runs 20] [--input FILE]
//
// Model names refer to the generated full-size models in build/onnx-models (see
// bench/gen-onnx-models.sh; $VIGIL_ONNX_MODELS overrides the folder). The default input is the
// generator's real-photo tensor (inputs/yolo640_real.bin for YOLO models,
// inputs/hrnet256x192_real.bin for HRNet models); with --batch N it is repeated N times along
// the batch axis (models with a symbolic batch dimension only).
//
// Threads: intra_op_num_threads = --threads, inter_op_num_threads = 1, sequential execution,
// ORT's default thread spinning. The number of OS threads the session added is reported
// (`pool_threads_added`: ORT's intra-op pool has threads - 1 workers, the caller's thread
// being the other one).

import fs from 'node:fs';
import path from 'node:path';
import { ONNX_MODELS, die, now, parseArgs, product, readRawTensor, summarize } from './lib/common.mjs';

const USAGE = `usage: node bench/ort_model.mjs --model NAME|FILE.onnx [--batch N] [--threads N]
       [--warmup N] [--runs N] [--input FILE]
`;
const args = parseArgs(process.argv.slice(2), {
    model: null,
    batch: 1,
    threads: 1,
    warmup: 10,
    runs: 20,
    input: null,
}, USAGE);
if (!args.model) die(`--model is required\n${USAGE}`);

const modelFile = args.model.endsWith('.onnx')
    ? path.resolve(args.model)
    : path.join(ONNX_MODELS, `${args.model}.onnx`);
if (!fs.existsSync(modelFile)) {
    die(`${modelFile} not found: run bench/gen-onnx-models.sh first (or set VIGIL_ONNX_MODELS)`);
}
const base = path.basename(modelFile, '.onnx');
const family = base.startsWith('yolo') ? 'yolo640' : base.startsWith('hrnet') ? 'hrnet256x192' : null;
let inputFile = args.input ? path.resolve(args.input) : null;
let sidecar = null;
if (family) {
    sidecar = JSON.parse(fs.readFileSync(path.join(path.dirname(modelFile), 'inputs',
        `${family}_real.json`), 'utf8'));
    if (!inputFile) inputFile = path.join(path.dirname(modelFile), 'inputs', `${family}_real.bin`);
}
if (!inputFile || !sidecar) {
    die(`${modelFile}: unknown model family; only the generated YOLOv7 / HRNet models are known`);
}

function countThreads() {
    try {
        return fs.readdirSync('/proc/self/task').length;
    } catch {
        return -1;
    }
}

const ort = (await import('onnxruntime-node')).default;
const threadsBefore = countThreads();
const t0 = now();
const session = await ort.InferenceSession.create(modelFile, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
});
const loadMs = now() - t0;
const threadsAdded = countThreads() - threadsBefore;

const one = readRawTensor(inputFile, 'float32', product(sidecar.shape));
const batch = Math.max(1, Math.floor(args.batch));
const shape = [batch, ...sidecar.shape.slice(1)];
const data = new Float32Array(one.length * batch);
for (let b = 0; b < batch; b++) data.set(one, b * one.length);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };

async function runOnce() {
    const out = await session.run(feeds);
    for (const k of Object.keys(out)) {
        if (out[k].data.length === 0) throw new Error(`empty output ${k}`);
        out[k].dispose?.();
    }
}

try {
    await runOnce();
} catch (e) {
    die(`${modelFile}: batch ${batch}: ${e.message}` +
        (batch > 1 ? ' (use the -dynbatch model for batch > 1)' : ''));
}
for (let i = 1; i < args.warmup; i++) await runOnce();
const times = [];
for (let i = 0; i < args.runs; i++) {
    const s = now();
    await runOnce();
    times.push(now() - s);
}

let ortVersion = 'unknown';
try {
    const url = new URL('./node_modules/onnxruntime-node/package.json', import.meta.url);
    ortVersion = JSON.parse(fs.readFileSync(url, 'utf8')).version;
} catch { /* keep unknown */ }

const result = {
    model: base,
    runtime: 'onnxruntime',
    threads: args.threads,
    batch,
    ...summarize(times),
    runs: args.runs,
    warmup: args.warmup,
    pool_threads_added: threadsAdded,
    input: path.relative(process.cwd(), inputFile),
    load_ms: Math.round(loadMs),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    versions: { node: process.versions.node, 'onnxruntime-node': ortVersion },
};
await session.release();
process.stdout.write(JSON.stringify(result) + '\n');
