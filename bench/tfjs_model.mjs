#!/usr/bin/env node
// Latency of one TF.js graph model on TF.js's WASM backend (XNNPACK), for comparison with
// `vigil bench model`. Prints one JSON object on stdout.
//
//   node bench/tfjs_model.mjs --model movenet-thunder [--case NAME] [--threads 1|2]
//                             [--warmup 20] [--runs 30]
//
// --model is one of the five model folders of the shared reference tree (centernet, nanodet,
// movenet-thunder, movenet-lightning, movenet-multipose) or a path to a folder holding
// model.json and its weight shard; --case picks the golden case whose input.bin is fed
// (default: the first case of that model in golden/index.json); --input FILE feeds another raw
// little-endian file with that case's input dtype and shape.
//
// Each timed run is model.execute() on the same input tensor plus reading every output back
// into JavaScript (dataSync), then disposing the outputs. Warm-up runs come first (at least 20:
// V8 compiles WebAssembly with a baseline tier first and optimises hot functions in the
// background, so the first runs are slower). See lib/tfjs_wasm.mjs for threads.

import fs from 'node:fs';
import path from 'node:path';
import { SHARED, die, now, parseArgs, product, readRawTensor, summarize } from './lib/common.mjs';
import { initTfjsWasm, loadGraphModelDir, tfjsVersions } from './lib/tfjs_wasm.mjs';

const USAGE = `usage: node bench/tfjs_model.mjs --model NAME|DIR [--case NAME] [--input FILE]
       [--threads N] [--warmup N] [--runs N]
`;

const args = parseArgs(process.argv.slice(2), {
    model: null,
    case: null,
    input: null,
    threads: 1,
    warmup: 20,
    runs: 30,
}, USAGE);
if (!args.model) die(`--model is required\n${USAGE}`);
if (args.warmup < 20) {
    process.stderr.write(`warning: --warmup ${args.warmup} < 20: TF.js-WASM timings will include ` +
        'unoptimised WebAssembly\n');
}
if (args.runs < 1) die('--runs must be >= 1');

const modelDir = fs.existsSync(path.join(args.model, 'model.json'))
    ? path.resolve(args.model)
    : path.join(SHARED, 'models', args.model);
if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
    die(`no model.json in ${modelDir}: pass a model folder, or a model name with the shared ` +
        'reference tree at ../shared (or $VIGIL_SHARED)');
}
const modelName = path.basename(modelDir);

// Golden case: dtype, shape and graph node of the input.
const index = JSON.parse(fs.readFileSync(path.join(SHARED, 'golden', 'index.json'), 'utf8'));
const cases = index.cases.filter((c) => c.model === modelName);
let caseEntry = args.case ? cases.find((c) => c.case === args.case) : cases[0];
if (!caseEntry) {
    die(`no golden case ${args.case ? `'${args.case}' ` : ''}for model '${modelName}' in ` +
        `${path.join(SHARED, 'golden', 'index.json')} (cases: ${cases.map((c) => c.case).join(', ')})`);
}
const caseDir = path.join(SHARED, 'golden', caseEntry.dir);
const caseJson = JSON.parse(fs.readFileSync(path.join(caseDir, 'case.json'), 'utf8'));
const inSpec = caseJson.inputs[0];
const inputFile = args.input ? path.resolve(args.input) : path.join(caseDir, inSpec.file);

const setup = await initTfjsWasm(args.threads);
const { tf } = setup;
if (setup.threads_actual !== setup.threads_requested) {
    process.stderr.write(`warning: asked for ${setup.threads_requested} threads, XNNPACK uses ` +
        `${setup.threads_actual}\n`);
}

const t0 = now();
const model = await loadGraphModelDir(modelDir);
const loadMs = now() - t0;

const data = readRawTensor(inputFile, inSpec.dtype, product(inSpec.shape));
const input = tf.tensor(data, inSpec.shape, inSpec.dtype);
const feed = { [inSpec.node]: input };
const outNames = caseJson.outputs.map((o) => o.node);

function runOnce() {
    const outs = model.execute(feed, outNames);
    const list = Array.isArray(outs) ? outs : [outs];
    for (const t of list) {
        t.dataSync();
    }
    tf.dispose(list);
}

for (let i = 0; i < args.warmup; i++) {
    runOnce();
}
const times = [];
for (let i = 0; i < args.runs; i++) {
    const s = now();
    runOnce();
    times.push(now() - s);
}

const result = {
    model: modelName,
    runtime: 'tfjs-wasm',
    threads: setup.threads_actual,
    threads_requested: setup.threads_requested,
    build: setup.build,
    ...summarize(times),
    runs: args.runs,
    warmup: args.warmup,
    input: path.relative(process.cwd(), inputFile),
    load_ms: Math.round(loadMs),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    versions: { node: process.versions.node, ...tfjsVersions() },
};
process.stdout.write(JSON.stringify(result) + '\n');
// The threaded build keeps worker threads alive: exit explicitly.
process.exit(0);
