// Small helpers shared by the benchmark scripts: argument parsing, statistics, paths.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (the parent of bench/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shared reference folder: $VIGIL_SHARED, else ../shared next to the repository. */
export const SHARED = process.env.VIGIL_SHARED
    ? path.resolve(process.env.VIGIL_SHARED)
    : path.resolve(REPO_ROOT, '..', 'shared');

/** Folder of the generated full-size ONNX models: $VIGIL_ONNX_MODELS or build/onnx-models. */
export const ONNX_MODELS = process.env.VIGIL_ONNX_MODELS
    ? path.resolve(process.env.VIGIL_ONNX_MODELS)
    : path.join(REPO_ROOT, 'build', 'onnx-models');

/**
 * Parses `--key value` and `--flag` arguments. `spec` maps each known key to its default
 * (a number, a string, a boolean for flags, or null). Unknown keys are an error.
 */
export function parseArgs(argv, spec, usage) {
    const out = { ...spec };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '-h' || a === '--help') {
            process.stdout.write(usage);
            process.exit(0);
        }
        if (!a.startsWith('--')) die(`unexpected argument '${a}'\n${usage}`);
        let key = a.slice(2);
        let val = null;
        const eq = key.indexOf('=');
        if (eq >= 0) {
            val = key.slice(eq + 1);
            key = key.slice(0, eq);
        }
        const prop = key.replace(/-/g, '_');
        if (!(prop in spec)) die(`unknown option --${key}\n${usage}`);
        if (typeof spec[prop] === 'boolean') {
            out[prop] = val === null ? true : val !== 'false' && val !== '0';
            continue;
        }
        if (val === null) {
            if (i + 1 >= argv.length) die(`option --${key} needs a value\n${usage}`);
            val = argv[++i];
        }
        if (typeof spec[prop] === 'number') {
            const n = Number(val);
            if (!Number.isFinite(n)) die(`option --${key}: '${val}' is not a number`);
            out[prop] = n;
        } else {
            out[prop] = val;
        }
    }
    return out;
}

export function die(msg) {
    process.stderr.write(`error: ${msg}\n`);
    process.exit(2);
}

/** Quantile by linear interpolation between closest ranks (q in 0..1). */
export function quantile(values, q) {
    if (values.length === 0) return NaN;
    const s = [...values].sort((a, b) => a - b);
    const pos = (s.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function mean(values) {
    return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Summary of a list of durations in milliseconds, rounded to microseconds. */
export function summarize(ms) {
    const r = (x) => Math.round(x * 1000) / 1000;
    return {
        median_ms: r(quantile(ms, 0.5)),
        p90_ms: r(quantile(ms, 0.9)),
        mean_ms: r(mean(ms)),
        min_ms: r(Math.min(...ms)),
        max_ms: r(Math.max(...ms)),
    };
}

/** Reads a raw little-endian tensor file into a typed array of the given dtype. */
export function readRawTensor(file, dtype, expectElems) {
    const buf = fs.readFileSync(file);
    const bytesPer = 4;
    if (buf.byteLength !== expectElems * bytesPer) {
        throw new Error(`${file}: ${buf.byteLength} bytes, expected ${expectElems * bytesPer} ` +
            `(${expectElems} x ${dtype}); check the model and the input file`);
    }
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    if (dtype === 'float32') return new Float32Array(ab);
    if (dtype === 'int32') return new Int32Array(ab);
    throw new Error(`${file}: unsupported dtype ${dtype}`);
}

export function product(shape) {
    return shape.reduce((a, b) => a * b, 1);
}

export const now = () => performance.now();
