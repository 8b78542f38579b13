#!/usr/bin/env node
// Per-model latency, vigil against its peers, measured side by side in one run:
//   * the five TF.js graph models: vigil `cpu` backend vs TF.js WASM (XNNPACK, SIMD),
//   * the generated full-size ONNX models (YOLOv7, YOLOv7-tiny, HRNet-W32 at batch 1 and 8):
//     vigil `cpu` backend vs ONNX Runtime (CPU EP, all graph optimisations),
// at 1 and 2 threads, on the same input tensors. Writes a markdown section (machine, versions,
// medians, ratios vigil/peer, GFLOP/s against the measured SGEMM peak) into docs/BENCHMARKS.md
// between the markers <!-- BEGIN compare-models --> and <!-- END compare-models -->, and the raw
// results to build/bench/compare-models.json.
//
// Usually started through bench/compare-models.sh, which first installs the npm packages,
// builds bench/sgemm_peak.c and generates the ONNX models.
//
//   node bench/compare-models.mjs [--models a,b,...] [--threads 1,2] [--rounds 3] [--quick]
//                                 [--out docs/BENCHMARKS.md] [--no-vigil] [--no-write]
//
// Fairness on a shared, noisy machine: every (model, threads) pair is measured in `rounds`
// rounds; each round starts a fresh process per side, and the order of the sides alternates
// between rounds (A B, B A, ...). Each process warms up (TF.js: >= 20 runs) and then times its
// runs; the figure reported per side is the median of its per-round medians, with the spread
// (min..max of round medians) alongside. vigil is the binary in $VIGIL, else
// build/release/src/apps/vigil; when it is missing, only the peers are measured.

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ONNX_MODELS, REPO_ROOT, SHARED, die, parseArgs, quantile } from './lib/common.mjs';

const USAGE = `usage: node bench/compare-models.mjs [--models LIST] [--threads 1,2] [--rounds N]
       [--quick] [--out FILE] [--json FILE] [--no-vigil] [--no-write]
`;
const args = parseArgs(process.argv.slice(2), {
    models: '',
    threads: '1,2',
    rounds: 3,
    quick: false,
    out: path.join(REPO_ROOT, 'docs', 'BENCHMARKS.md'),
    json: path.join(REPO_ROOT, 'build', 'bench', 'compare-models.json'),
    no_vigil: false,
    no_write: false,
}, USAGE);

const BENCH = path.join(REPO_ROOT, 'bench');
const NODE = process.execPath;

// Models: kind, peer, per-process warm-up and timed runs (sized so that one process of a heavy
// model stays within seconds), and for ONNX the batch. TF.js warm-up is 20 at least.
const ALL_MODELS = [
    { id: 'centernet', kind: 'tfjs', warmup: 20, runs: 10 },
    { id: 'nanodet', kind: 'tfjs', warmup: 20, runs: 10 },
    { id: 'movenet-thunder', kind: 'tfjs', warmup: 20, runs: 10 },
    { id: 'movenet-lightning', kind: 'tfjs', warmup: 20, runs: 20 },
    { id: 'movenet-multipose', kind: 'tfjs', warmup: 20, runs: 10 },
    { id: 'yolov7', kind: 'onnx', file: 'yolov7', batch: 1, warmup: 1, runs: 3 },
    { id: 'yolov7-tiny', kind: 'onnx', file: 'yolov7-tiny', batch: 1, warmup: 2, runs: 8 },
    { id: 'hrnet-w32', kind: 'onnx', file: 'hrnet-w32', batch: 1, warmup: 2, runs: 8 },
    { id: 'hrnet-w32-b8', kind: 'onnx', file: 'hrnet-w32-dynbatch', batch: 8, warmup: 1, runs: 3 },
];

const threadList = args.threads.split(',').map((s) => Number(s.trim())).filter((n) => n >= 1);
if (threadList.length === 0) die('--threads: no valid thread count');
let models = ALL_MODELS;
if (args.models) {
    const want = args.models.split(',').map((s) => s.trim());
    for (const w of want) {
        if (!ALL_MODELS.some((m) => m.id === w)) {
            die(`unknown model '${w}' (known: ${ALL_MODELS.map((m) => m.id).join(', ')})`);
        }
    }
    models = ALL_MODELS.filter((m) => want.includes(m.id));
}
if (args.quick) {
    models = models.map((m) => ({
        ...m,
        warmup: m.kind === 'tfjs' ? 20 : 1,
        runs: Math.max(2, Math.ceil(m.runs / 2)),
    }));
}
const rounds = Math.max(1, Math.floor(args.rounds));

// ---------------------------------------------------------------- inputs

function goldenCase(model) {
    const index = JSON.parse(fs.readFileSync(path.join(SHARED, 'golden', 'index.json'), 'utf8'));
    const c = index.cases.find((x) => x.model === model);
    if (!c) die(`no golden case for ${model} under ${SHARED}/golden`);
    const dir = path.join(SHARED, 'golden', c.dir);
    const cj = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
    return { name: c.case, file: path.join(dir, cj.inputs[0].file), input: cj.inputs[0] };
}

function modelPath(m) {
    return m.kind === 'tfjs' ? path.join(SHARED, 'models', m.id) : path.join(ONNX_MODELS, `${m.file}.onnx`);
}

function inputOf(m) {
    if (m.kind === 'tfjs') {
        const g = goldenCase(m.id);
        return { name: g.input.name, file: g.file, shape: g.input.shape,
            desc: `golden/${m.id}/${g.name}/input.bin` };
    }
    const fam = m.file.startsWith('yolo') ? 'yolo640' : 'hrnet256x192';
    const file = path.join(ONNX_MODELS, 'inputs', `${fam}_real.bin`);
    const shape = fam === 'yolo640' ? [1, 3, 640, 640] : [1, 3, 256, 192];
    return {
        name: fam === 'yolo640' ? 'images' : 'input',
        file,
        shape,
        desc: `onnx-models/inputs/${fam}_real.bin${m.batch > 1 ? ` x${m.batch}` : ''}`,
    };
}

// The batch-N input for vigil: the batch-1 tensor repeated N times (what ort_model.mjs feeds).
function batchedInput(inp, batch) {
    const dir = path.join(REPO_ROOT, 'build', 'bench', 'inputs');
    const out = path.join(dir, `${path.basename(inp.file, '.bin')}_b${batch}.bin`);
    if (!fs.existsSync(out)) {
        const one = fs.readFileSync(inp.file);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(out, Buffer.concat(Array(batch).fill(one)));
    }
    return out;
}

// ---------------------------------------------------------------- running one side

function lastJson(text) {
    const lines = text.trim().split('\n').reverse();
    for (const l of lines) {
        const s = l.trim();
        if (!s.startsWith('{')) continue;
        try {
            const o = JSON.parse(s);
            if (typeof o.median_ms === 'number') return o;
        } catch { /* not JSON */ }
    }
    return null;
}

function run(cmd, argv, timeoutS) {
    const r = spawnSync(cmd, argv, {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: timeoutS * 1000,
        maxBuffer: 64 << 20,
    });
    const out = lastJson(r.stdout || '');
    if (r.status !== 0 || !out) {
        const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
        return { error: `exit ${r.status}: ${why || 'no JSON result'}` };
    }
    return out;
}

function peerRun(m, threads) {
    if (m.kind === 'tfjs') {
        return run(NODE, [path.join(BENCH, 'tfjs_model.mjs'), '--model', m.id, '--threads',
            String(threads), '--warmup', String(m.warmup), '--runs', String(m.runs)], 900);
    }
    return run(NODE, [path.join(BENCH, 'ort_model.mjs'), '--model', m.file, '--batch',
        String(m.batch), '--threads', String(threads), '--warmup', String(m.warmup), '--runs',
        String(m.runs)], 900);
}

const vigilBin = process.env.VIGIL
    ? path.resolve(process.env.VIGIL)
    : path.join(REPO_ROOT, 'build', 'release', 'src', 'apps', 'vigil');
const haveVigil = !args.no_vigil && fs.existsSync(vigilBin);
// Set when this vigil has no `bench model` command: the vigil side is then skipped.
let vigilMissing = null;

function vigilRun(m, threads) {
    if (vigilMissing) return { error: vigilMissing };
    const inp = inputOf(m);
    const argv = ['bench', 'model', modelPath(m), '--backend', 'cpu', '--threads', String(threads),
        '--warmup', String(m.warmup), '--runs', String(m.runs), '--json'];
    if (m.batch > 1) {
        argv.push('--shape', `${inp.name}=${[m.batch, ...inp.shape.slice(1)].join('x')}`,
            '--input', `${inp.name}=${batchedInput(inp, m.batch)}`);
    } else {
        // The shape is given too: MultiPose's input has symbolic height and width.
        argv.push('--shape', `${inp.name}=${inp.shape.join('x')}`, '--input', `${inp.name}=${inp.file}`);
    }
    argv.push(...(process.env.VIGIL_BENCH_ARGS || '').split(/\s+/).filter(Boolean));
    const r = run(vigilBin, argv, 900);
    if (r.error && /unknown command/.test(r.error)) {
        vigilMissing = `this vigil has no 'bench model' command`;
        process.stderr.write(`  ${vigilBin}: ${vigilMissing}; measuring the peers only\n`);
        return { error: vigilMissing };
    }
    return r;
}

// ---------------------------------------------------------------- machine facts

function cpuInfo() {
    const txt = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const model = (txt.match(/^model name\s*:\s*(.*)$/m) || [])[1] || 'unknown';
    const flags = new Set(((txt.match(/^flags\s*:\s*(.*)$/m) || [])[1] || '').split(/\s+/));
    const logical = (txt.match(/^processor\s*:/gm) || []).length;
    const want = ['avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile'];
    return {
        model,
        logical_cpus: logical,
        online_for_us: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
        isa: want.map((f) => `${f} ${flags.has(f) ? 'yes' : 'no'}`).join(', '),
        mem_gib: Math.round(os.totalmem() / 2 ** 30),
    };
}

function sgemmPeak(threads) {
    const bin = path.join(REPO_ROOT, 'build', 'bench', 'sgemm_peak');
    if (!fs.existsSync(bin)) return { error: `${bin} missing (bench/compare-models.sh builds it)` };
    return run(bin, ['--threads', String(threads), '--runs', args.quick ? '3' : '7'], 600);
}

function versions() {
    const v = { node: process.versions.node };
    const pkg = (p) => {
        try {
            return JSON.parse(fs.readFileSync(path.join(BENCH, 'node_modules', p, 'package.json'), 'utf8')).version;
        } catch {
            return 'missing';
        }
    };
    v.tfjs = pkg('@tensorflow/tfjs-core');
    v['tfjs-backend-wasm'] = pkg('@tensorflow/tfjs-backend-wasm');
    v['onnxruntime-node'] = pkg('onnxruntime-node');
    try {
        v.onednn = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libdnnl-dev'], { encoding: 'utf8' });
    } catch {
        v.onednn = 'unknown';
    }
    try {
        v.gcc = execFileSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
    } catch {
        v.gcc = 'unknown';
    }
    try {
        v.vigil_commit = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'],
            { encoding: 'utf8' }).trim();
    } catch {
        v.vigil_commit = 'unknown';
    }
    return v;
}

function gflopsPerImage() {
    try {
        const mj = JSON.parse(fs.readFileSync(path.join(ONNX_MODELS, 'models.json'), 'utf8'));
        const out = {};
        for (const [k, v] of Object.entries(mj)) out[k] = v.gflops_2macs;
        return out;
    } catch {
        // Figures from the generator's README (2 x conv MACs per image).
        return { yolov7: 104.5, 'yolov7-tiny': 13.7, 'hrnet-w32': 15.3 };
    }
}

// ---------------------------------------------------------------- measurement

const started = Date.now();
const load0 = os.loadavg();
const machine = cpuInfo();
const vers = versions();
process.stderr.write(`compare-models: ${machine.model}, ${machine.online_for_us} CPUs; vigil: ` +
    `${haveVigil ? vigilBin : 'not found (peers only)'}\n`);

// SGEMM peak: measured before and after the models; the higher median is kept (a busy
// neighbour lowers a measurement, nothing raises it).
const sgemm = {};
function measureSgemm(when) {
    for (const t of threadList) {
        const r = sgemmPeak(t);
        process.stderr.write(`  sgemm ${t} thread(s), ${when}: ${JSON.stringify(r)}\n`);
        if (!sgemm[t] || sgemm[t].error || (!r.error && r.gflops > sgemm[t].gflops)) sgemm[t] = r;
    }
}
measureSgemm('start');

function agg(list) {
    const ok = list.filter((r) => !r.error);
    if (ok.length === 0) return { error: list.length ? list[list.length - 1].error : 'not run' };
    const med = ok.map((r) => r.median_ms);
    return {
        median_ms: quantile(med, 0.5),
        lo_ms: Math.min(...med),
        hi_ms: Math.max(...med),
        rounds: ok.length,
        threads_actual: ok[0].threads,
        peak_rss_mb: Math.round(Math.max(...ok.map((r) => r.peak_rss_mb || 0))),
        extra: ok[0],
    };
}

const results = [];
for (const m of models) {
    if (m.kind === 'onnx' && !fs.existsSync(modelPath(m))) {
        process.stderr.write(`  skip ${m.id}: ${modelPath(m)} missing (run bench/gen-onnx-models.sh)\n`);
        continue;
    }
    for (const t of threadList) {
        const peer = [];
        const vig = [];
        for (let r = 0; r < rounds; r++) {
            const order = r % 2 === 0 ? ['vigil', 'peer'] : ['peer', 'vigil'];
            for (const side of order) {
                if (side === 'peer') {
                    peer.push(peerRun(m, t));
                } else if (haveVigil) {
                    vig.push(vigilRun(m, t));
                }
            }
        }
        const row = { model: m.id, kind: m.kind, threads: t, batch: m.batch || 1,
            input: inputOf(m).desc, peer: agg(peer), vigil: haveVigil ? agg(vig) : null };
        results.push(row);
        const f = (a) => (a && !a.error ? `${a.median_ms.toFixed(1)} ms` : a ? a.error : '-');
        process.stderr.write(`  ${m.id} t${t}: peer ${f(row.peer)}, vigil ${f(row.vigil)}\n`);
    }
}
measureSgemm('end');
const elapsedS = Math.round((Date.now() - started) / 1000);
const load1 = os.loadavg();

// ---------------------------------------------------------------- report

const GF = gflopsPerImage();
const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
const cell = (a) => {
    if (!a || (vigilMissing && a.error === vigilMissing)) return 'n/a';
    if (a.error) return `error: ${a.error.replace(/\|/g, '/').slice(0, 80)}`;
    return `${fmt(a.median_ms)} (${fmt(a.lo_ms)}-${fmt(a.hi_ms)})`;
};
const ratio = (v, p) => (v && p && !v.error && !p.error ? v.median_ms / p.median_ms : null);

const lines = [];
const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
lines.push(`Generated by \`bench/compare-models.sh\` on ${date} in ${elapsedS} s ` +
    `(${rounds} interleaved round(s) per model and thread count${args.quick ? ', --quick' : ''}).`);
lines.push('');
lines.push('**Machine.** ' +
    `${machine.model}; ${machine.logical_cpus} logical CPUs (${machine.online_for_us} usable); ` +
    `${machine.mem_gib} GiB; ISA: ${machine.isa}. ` +
    `Load average ${load0.map((x) => x.toFixed(2)).join('/')} at start, ` +
    `${load1.map((x) => x.toFixed(2)).join('/')} at the end (1/5/15 min): the machine is shared, ` +
    'so medians are quoted and the spread of the round medians is shown in parentheses.');
lines.push('');
const sg = threadList.map((t) => (sgemm[t].error ? `${t} thread(s): ${sgemm[t].error}`
    : `${t} thread(s) ${fmt(sgemm[t].gflops)} GFLOP/s (best ${fmt(sgemm[t].best_gflops)}, ` +
      `n=${sgemm[t].n}, oneDNN ISA ${sgemm[t].isa})`));
lines.push('**SGEMM peak** (oneDNN `dnnl_sgemm`, float32, square, median of the runs; measured ' +
    `before and after the models, the higher kept): ${sg.join('; ')}.`);
lines.push('');
lines.push(`**Versions.** Node ${vers.node}; TF.js ${vers.tfjs} (tfjs-backend-wasm ` +
    `${vers['tfjs-backend-wasm']}); onnxruntime-node ${vers['onnxruntime-node']}; oneDNN ` +
    `${vers.onednn}; gcc ${vers.gcc}; vigil commit ${vers.vigil_commit}` +
    `${!haveVigil ? ' (vigil binary not found: peer columns only)'
        : vigilMissing ? ` (${vigilMissing}: peer columns only)` : ''}.`);
lines.push('');
lines.push('**Settings.** TF.js: WASM backend, SIMD; 1 thread = the stock single-threaded SIMD ' +
    'build that TF.js uses in Node; 2 threads = the threaded-SIMD build forced into Node ' +
    '(bench/lib/tfjs_wasm.mjs; the thread count XNNPACK reports is in the table); >= 20 ' +
    'warm-up runs per process; a run is `execute` plus reading every output. ONNX Runtime: CPU ' +
    'EP, graph optimisation level all, intra-op threads = threads, inter-op 1, sequential. ' +
    'vigil: `vigil bench model --backend cpu --threads N --warmup W --runs R --json --input ' +
    'NAME=FILE --shape NAME=SHAPE` (batch 8: `--shape input=8x3x256x192` and the crop repeated 8 times)' +
    `${process.env.VIGIL_BENCH_ARGS ? `, plus \`${process.env.VIGIL_BENCH_ARGS}\`` : ''}.`);
lines.push('');

const tf = results.filter((r) => r.kind === 'tfjs');
if (tf.length) {
    lines.push('### TF.js graph models: vigil `cpu` vs TF.js WASM (target: ratio <= 0.33)');
    lines.push('');
    lines.push('| model | input | threads (TF.js actual) | TF.js-WASM ms | vigil ms | vigil/TF.js | target met |');
    lines.push('|---|---|---:|---:|---:|---:|:---:|');
    for (const r of tf) {
        const q = ratio(r.vigil, r.peer);
        lines.push(`| ${r.model} | \`${r.input}\` | ${r.threads} (${r.peer.threads_actual ?? '-'}) | ` +
            `${cell(r.peer)} | ${cell(r.vigil)} | ${fmt(q, 2)} | ${q === null ? '-' : q <= 0.33 ? 'yes' : 'no'} |`);
    }
    lines.push('');
}
const ox = results.filter((r) => r.kind === 'onnx');
if (ox.length) {
    lines.push('### ONNX models (generated, full size): vigil `cpu` vs ONNX Runtime (target: ratio <= 1.0)');
    lines.push('');
    lines.push('| model | batch | threads | GFLOP per run | ORT ms | vigil ms | vigil/ORT | target met | ' +
        'ORT GFLOP/s (% of SGEMM peak) | vigil GFLOP/s (% of peak) |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|:---:|---:|---:|');
    for (const r of ox) {
        const key = r.model.startsWith('hrnet') ? 'hrnet-w32' : r.model;
        const gf = (GF[key] ?? NaN) * r.batch;
        const peak = sgemm[r.threads] && !sgemm[r.threads].error ? sgemm[r.threads].gflops : null;
        const ach = (a) => {
            if (!a || a.error) return '-';
            const g = gf / (a.median_ms / 1000);
            return `${fmt(g)}${peak ? ` (${fmt((100 * g) / peak, 0)}%)` : ''}`;
        };
        const q = ratio(r.vigil, r.peer);
        lines.push(`| ${r.model} | ${r.batch} | ${r.threads} | ${fmt(gf)} | ${cell(r.peer)} | ` +
            `${cell(r.vigil)} | ${fmt(q, 2)} | ${q === null ? '-' : q <= 1.0 ? 'yes' : 'no'} | ` +
            `${ach(r.peer)} | ${ach(r.vigil)} |`);
    }
    lines.push('');
    lines.push('GFLOP per run = 2 x convolution multiply-accumulates per image (generator README / ' +
        'models.json) x batch. Inputs: the generator\'s real-photo tensors; HRNet batch 8 repeats ' +
        'the crop 8 times on the `-dynbatch` model.');
    lines.push('');
}
lines.push('Raw results: `build/bench/compare-models.json`. Peak RSS per process (MB): ' +
    results.map((r) => `${r.model}/t${r.threads} ${r.peer.peak_rss_mb ?? '-'}` +
        `${r.vigil && !r.vigil.error ? `/${r.vigil.peak_rss_mb ?? '-'}` : ''}`).join(', ') +
    ' (peer/vigil).');

const section = lines.join('\n');
fs.mkdirSync(path.dirname(args.json), { recursive: true });
fs.writeFileSync(args.json, JSON.stringify({ date, elapsed_s: elapsedS, machine, versions: vers,
    sgemm, load_start: load0, load_end: load1, results }, null, 1) + '\n');

const BEGIN = '<!-- BEGIN compare-models -->';
const END = '<!-- END compare-models -->';
if (!args.no_write) {
    let doc = fs.existsSync(args.out) ? fs.readFileSync(args.out, 'utf8') : '';
    const i = doc.indexOf(BEGIN);
    const j = doc.indexOf(END);
    const block = `${BEGIN}\n${section}\n${END}`;
    if (i >= 0 && j > i) {
        doc = doc.slice(0, i) + block + doc.slice(j + END.length);
    } else {
        doc += `${doc.endsWith('\n') || doc === '' ? '' : '\n'}\n## Per-model latency\n\n${block}\n`;
    }
    fs.writeFileSync(args.out, doc);
    process.stderr.write(`compare-models: wrote ${path.relative(REPO_ROOT, args.out)} (${elapsedS} s)\n`);
} else {
    process.stdout.write(section + '\n');
}
