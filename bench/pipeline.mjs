#!/usr/bin/env node
// vigil's performance-vs-people curves for both model pairs, in one command: runs
// `vigil bench pipeline` on the default TF.js models (CenterNet + MoveNet Thunder) and on the
// full-size ONNX models (YOLOv7-tiny + HRNet-W32, ground-truth boxes because their weights are
// random), writes their CSV and JSON to build/bench/, the three-panel figures to
// docs/bench-pipeline-*.svg, profiles the models of the slowest stages with
// `vigil bench model --profile`, and writes the tables between <!-- BEGIN pipeline-vigil -->
// and <!-- END pipeline-vigil --> in docs/BENCHMARKS.md. Usually started by bench/pipeline.sh.
//
//   node bench/pipeline.mjs [--quick] [--pairs tfjs,onnx] [--persons LIST] [--frames-tfjs N]
//        [--frames-onnx N] [--variants LIST] [--out docs/BENCHMARKS.md] [--no-write]
//
// VIGIL=path/to/vigil selects the binary (default build/release/src/apps/vigil).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ONNX_MODELS, REPO_ROOT, SHARED, die, parseArgs } from './lib/common.mjs';

const USAGE = `usage: node bench/pipeline.mjs [--quick] [--pairs tfjs,onnx] [--persons LIST]
       [--frames-tfjs N] [--frames-onnx N] [--variants LIST] [--out FILE] [--no-write]
`;
const args = parseArgs(process.argv.slice(2), {
    quick: false,
    pairs: 'tfjs,onnx',
    persons: '',
    frames_tfjs: 0,
    frames_onnx: 0,
    variants: '',
    out: path.join(REPO_ROOT, 'docs', 'BENCHMARKS.md'),
    no_write: false,
}, USAGE);

const VIGIL = path.resolve(REPO_ROOT, process.env.VIGIL || 'build/release/src/apps/vigil');
if (!fs.existsSync(VIGIL)) die(`${VIGIL} not found: build vigil first (make) or set VIGIL`);
const outDir = path.join(REPO_ROOT, 'build', 'bench');
fs.mkdirSync(outDir, { recursive: true });

function defaultModel(name) {
    const dirs = [process.env.VIGIL_MODELS, path.join(REPO_ROOT, 'models'), path.join(SHARED, 'models')];
    for (const d of dirs) {
        if (d && fs.existsSync(path.join(d, name, 'model.json'))) return path.join(d, name);
    }
    die(`model ${name} not found in $VIGIL_MODELS, ./models or ${SHARED}/models; run 'make models'`);
}

// Defaults sized for a 2-core machine: frames per person count (+ warm-up) per variant.
const PAIRS = {
    tfjs: {
        title: 'CenterNet + MoveNet Thunder (TF.js models)',
        short: 'tfjs',
        detector: () => defaultModel('centernet'),
        pose: () => defaultModel('movenet-thunder'),
        frames: args.frames_tfjs || (args.quick ? 2 : 6),
        warmup: args.quick ? 1 : 2,
    },
    onnx: {
        title: 'YOLOv7-tiny + HRNet-W32 (ONNX, random weights, ground-truth boxes)',
        short: 'onnx',
        detector: () => path.join(ONNX_MODELS, 'yolov7-tiny.onnx'),
        pose: () => path.join(ONNX_MODELS, 'hrnet-w32-dynbatch.onnx'),
        frames: args.frames_onnx || (args.quick ? 2 : 3),
        warmup: 1,
    },
};

function run(cmd, argv, timeoutS) {
    process.stderr.write(`pipeline: ${path.relative(REPO_ROOT, cmd) || cmd} ${argv.join(' ')}\n`);
    const r = spawnSync(cmd, argv, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20,
        stdio: ['ignore', 'pipe', 'inherit'], timeout: timeoutS * 1000,
        env: { ...process.env, VIGIL_SHARED: SHARED } });
    if (r.status !== 0) die(`${path.basename(cmd)} ${argv.slice(0, 2).join(' ')} failed (exit ${r.status})`);
    return r.stdout;
}

const rel = (p) => path.relative(REPO_ROOT, p);
const f = (x, d = 2) => (x === undefined || x === null || !Number.isFinite(Number(x)) ? '-' : Number(x).toFixed(d));

// Profiles one model on the given device: the top ops by time.
function profile(model, device, threads) {
    const out = run(VIGIL, ['bench', 'model', model, '--device', device, '--threads', String(threads),
        '--runs', args.quick ? '2' : '5', '--warmup', '1', '--profile', '--json'], 900);
    const j = JSON.parse(out);
    return { median_ms: j.median_ms, top: (j.profile || []).slice(0, 3) };
}

const started = Date.now();
const load0 = os.loadavg();
const results = {};
for (const key of args.pairs.split(',')) {
    const pair = PAIRS[key];
    if (!pair) die(`--pairs: unknown pair '${key}' (tfjs, onnx)`);
    const csv = path.join(outDir, `vigil-pipeline-${pair.short}.csv`);
    const svg = path.join(REPO_ROOT, 'docs', `bench-pipeline-${pair.short}.svg`);
    const argv = ['bench', 'pipeline', '--detector', pair.detector(), '--pose', pair.pose(),
        '--boxes', 'gt', '--frames', String(pair.frames), '--warmup', String(pair.warmup),
        '--csv', csv, '--svg', svg, '--title', `vigil: ${pair.title}`, '--json'];
    if (args.quick) argv.push('--quick');
    if (args.persons) argv.push('--persons', args.persons);
    if (args.variants) argv.push('--variants', args.variants);
    const t0 = Date.now();
    const j = JSON.parse(run(VIGIL, argv, 3600));
    j.wall_s = Math.round((Date.now() - t0) / 1000);
    j.csv = csv;
    j.svg = svg;
    const shown = [];
    for (let i = 0; i < argv.length; i++) {
        if (['--csv', '--svg', '--title'].includes(argv[i])) i++;
        else if (argv[i] !== '--json') shown.push(argv[i].startsWith('/') ? rel(argv[i]) : argv[i]);
    }
    j.command = `vigil ${shown.join(' ')}`;
    fs.writeFileSync(path.join(outDir, `vigil-pipeline-${pair.short}.json`), JSON.stringify(j, null, 1) + '\n');
    // The bottleneck: the slowest stage of the pipelined variant at the largest person count,
    // and the detector at 0 persons; both models profiled on their pipelined devices.
    const pip = j.rows.filter((r) => r.variant === 'pipelined');
    j.profiles = {};
    if (pip.length) {
        const last = pip[pip.length - 1];
        const threadsOf = (dev) => {
            const m = /^cpu:(\d+)(?:-(\d+))?$/.exec(dev);
            return m ? (m[2] ? Number(m[2]) - Number(m[1]) + 1 : 1) : os.availableParallelism?.() || 2;
        };
        j.profiles.detector = { device: last.det_device,
            ...profile(pair.detector(), last.det_device, threadsOf(last.det_device)) };
        j.profiles.pose = { device: last.pose_device,
            ...profile(pair.pose(), last.pose_device, threadsOf(last.pose_device)) };
    }
    results[key] = { pair, j };
}
const elapsedS = Math.round((Date.now() - started) / 1000);
const load1 = os.loadavg();

// ---------------------------------------------------------------- report

const STAGE_NAMES = { pre: 'pre-processing', detect: 'detector', pose: 'pose model' };
function slowest(r) {
    const st = [['pre', r.pre_ms], ['detect', r.detect_ms], ['pose', r.pose_ms]];
    return st.reduce((a, b) => (b[1] > a[1] ? b : a));
}

function pairSection(key, { pair, j }) {
    const out = [];
    const variants = [...new Set(j.rows.map((r) => r.variant))];
    out.push(`### vigil: ${pair.title}`, '');
    out.push(`\`${j.command}\` — ${j.frames} measured + ${j.warmup} warm-up frames per person count ` +
        `and variant, at most ${j.in_flight} frames in flight; ${j.wall_s} s.`, '');
    out.push(`![FPS, latency and poses/s against persons per frame](${path.basename(j.svg)})`, '');
    out.push('Frames: ' + j.segments.map((s) => `${s.persons}: ${s.frames_from}`).join('; ') + '.', '');
    const head = ['variant', 'persons', 'FPS', 'latency mean ms', 'latency p95 ms', 'poses/s',
        'pre ms', 'detect ms', 'pose ms', 'pose ms/person', 'bound FPS', 'FPS/bound', '>= 0.9'];
    out.push(`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const r of j.rows) {
        const ratio = r.bound_fps > 0 ? r.fps / r.bound_fps : 0;
        out.push(`| ${r.variant} | ${r.persons} | ${f(r.fps)} | ${f(r.latency_mean_ms, 1)} | ` +
            `${f(r.latency_p95_ms, 1)} | ${f(r.poses_per_s)} | ${f(r.pre_ms, 1)} | ${f(r.detect_ms, 1)} | ` +
            `${f(r.pose_ms, 1)} | ${r.poses_per_frame > 0 ? f(r.pose_ms / r.poses_per_frame, 1) : '-'} | ` +
            `${f(r.bound_fps)} | ${f(ratio)} | ${ratio >= 0.9 ? 'yes' : '**no**'} |`);
    }
    out.push('');
    // What pipelining, batching and the device split buy (FPS ratios per person count).
    const by = (v, k) => j.rows.find((r) => r.variant === v && r.persons === k);
    const comps = [['pipelined', 'sequential', 'pipelining (pipelined / sequential)'],
        ['pipelined', 'batch1', 'pose batching (pipelined / batch1)'],
        ['pipelined', 'shared', 'device split (pipelined / shared)']]
        .filter(([a, b]) => variants.includes(a) && variants.includes(b));
    if (comps.length) {
        const ks = [...new Set(j.rows.map((r) => r.persons))];
        out.push('FPS ratios, what each design choice buys:', '');
        out.push(`| persons | ${comps.map((c) => c[2]).join(' | ')} |`,
            `|---:|${comps.map(() => '---:').join('|')}|`);
        for (const k of ks) {
            out.push(`| ${k} | ${comps.map(([a, b]) => {
                const x = by(a, k); const y = by(b, k);
                return x && y && y.fps > 0 ? f(x.fps / y.fps) : '-';
            }).join(' | ')} |`);
        }
        out.push('');
    }
    if (!variants.includes('batch1')) {
        out.push('The pose model has a fixed batch of 1, so the `batch1` variant equals `pipelined` ' +
            'and is left out.', '');
    }
    // Target 5: pipelined FPS >= 0.9 x bound; name the bottleneck where missed.
    const pip = j.rows.filter((r) => r.variant === 'pipelined');
    const missed = pip.filter((r) => !(r.bound_fps > 0 && r.fps >= 0.9 * r.bound_fps));
    const prof = (p) => (p ? `${p.top.map((o) => `${o.op} (${o.backend}) ${f(o.ms_per_run, 1)} ms ` +
        `(${f(o.percent, 0)}%)`).join(', ')} of ${f(p.median_ms, 1)} ms per run on ${p.device}` : '');
    const lines = [];
    if (pip.length) {
        lines.push(`**Pipeline bound** (pipelined FPS >= 0.9 x 1 / slowest stage): met at ` +
            `${pip.length - missed.length} of ${pip.length} person counts` +
            (missed.length ? `; missed at ${missed.map((r) => {
                const [st, ms] = slowest(r);
                return `${r.persons} (${f(r.fps / r.bound_fps)} of the bound; slowest stage ` +
                    `${STAGE_NAMES[st]} ${f(ms, 1)} ms)`;
            }).join(', ')}.` : '.'));
        const bottleneckKs = pip.map((r) => `${r.persons}: ${slowest(r)[0]}`).join(', ');
        lines.push(`Slowest stage per person count (pipelined): ${bottleneckKs}.`);
        if (j.profiles?.detector) lines.push(`Detector profile (\`vigil bench model --profile\`, batch 1): ${prof(j.profiles.detector)}.`);
        if (j.profiles?.pose) lines.push(`Pose model profile (batch 1): ${prof(j.profiles.pose)}.`);
    }
    out.push(...lines.map((l) => `${l}\n`));
    return out;
}

const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1];
const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const lines = [];
lines.push(`Generated by \`bench/pipeline.sh${args.quick ? ' --quick' : ''}\` on ${date} in ${elapsedS} s ` +
    `on ${cpu} (${os.availableParallelism ? os.availableParallelism() : os.cpus().length} CPUs; ISA ` +
    'and SGEMM peak in the per-model section above); load average ' +
    `${load0.map((x) => x.toFixed(2)).join('/')} at start, ${load1.map((x) => x.toFixed(2)).join('/')} ` +
    'at the end. CSV and JSON: `build/bench/vigil-pipeline-{tfjs,onnx}.{csv,json}`. Variants: ' +
    '`pipelined` (one thread per stage, detector and pose model on disjoint cores, batched pose), ' +
    '`sequential` (the same stages one after another, both models on all cores), `batch1` ' +
    '(pipelined, one crop per pose run), `shared` (pipelined, both models on all cores).');
lines.push('');
for (const [key, v] of Object.entries(results)) lines.push(...pairSection(key, v));
const section = lines.join('\n').replace(/\n+$/, '');

const BEGIN = '<!-- BEGIN pipeline-vigil -->';
const END = '<!-- END pipeline-vigil -->';
if (args.no_write) {
    process.stdout.write(section + '\n');
} else {
    let doc = fs.existsSync(args.out) ? fs.readFileSync(args.out, 'utf8') : '';
    const block = `${BEGIN}\n${section}\n${END}`;
    const i = doc.indexOf(BEGIN);
    const k = doc.indexOf(END);
    if (i >= 0 && k > i) {
        doc = doc.slice(0, i) + block + doc.slice(k + END.length);
    } else {
        const p = doc.indexOf('<!-- BEGIN pipeline-peers -->');
        doc = p >= 0 ? `${doc.slice(0, p)}${block}\n\n${doc.slice(p)}` : `${doc}\n${block}\n`;
    }
    fs.writeFileSync(args.out, doc);
    process.stderr.write(`pipeline: wrote ${rel(args.out)} (${elapsedS} s)\n`);
}
