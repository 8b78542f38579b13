// TF.js WASM backend set-up for benchmarks in Node, plus a file-system model loader.
//
// How @tensorflow/tfjs-backend-wasm 4.22 picks its binary and thread count:
//   * It has three builds: plain, SIMD, threaded-SIMD. `init()` uses threaded-SIMD when the
//     flags WASM_HAS_SIMD_SUPPORT and WASM_HAS_MULTITHREAD_SUPPORT are both true, else the
//     SIMD (or plain) build. In Node, WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false
//     (tfjs issue 3830), so a stock Node process always runs the single-threaded SIMD build and
//     `getThreadsCount()` reports 1 whatever `setThreadsCount()` asked for.
//   * In the threaded build, the C side caps the XNNPACK pool at
//     min(requested, 8, emscripten_num_logical_cores() / 2); in Node the core count comes from
//     `os.cpus().length`, so a 2-logical-core machine gets 1 thread even there.
//
// threads == 1: the stock Node configuration (SIMD build, no worker threads).
// threads >= 2: the threaded-SIMD build is forced into Node: the flag is overridden, the
//   Emscripten worker script and the module factory, which the backend hands to its workers as
//   Blob URLs that Node's worker_threads cannot load, are written to a temporary folder and
//   loaded from there, and `os.cpus()` reports 2 x threads logical CPUs while the backend
//   initialises so that the thread cap allows the request. The thread count XNNPACK actually
//   uses is read back with getThreadsCount() and reported; callers must check it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let tf = null;
let wasmBackend = null;
let tmpDir = null;

function cleanupTmp() {
    if (tmpDir) {
        fs.rmSync(tmpDir, { recursive: true, force: true });
        tmpDir = null;
    }
}

// Prepares Blob / URL.createObjectURL so that the threaded build's Blob URLs become files.
function installBlobFiles() {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tfjs-wasm-'));
    process.on('exit', cleanupTmp);
    const mainScript = path.join(tmpDir, 'factory.js');
    // The factory is a rollup-bundled function that refers to the bundle's module-level
    // names for fs, path, perf_hooks, os and the global object; define them for the worker.
    const prelude =
        "var require$$0 = require('fs'), require$$1 = require('path'), " +
        "require$$3 = require('perf_hooks'), require$$4 = require('os'), " +
        'commonjsGlobal = globalThis;\n';
    const OrigBlob = globalThis.Blob;
    class FileBlob extends OrigBlob {
        constructor(parts, opts) {
            super(parts, opts);
            this.vigilText = parts.every((p) => typeof p === 'string') ? parts.join('') : null;
            if (this.vigilText !== null &&
                this.vigilText.startsWith('var WasmBackendModuleThreadedSimd')) {
                fs.writeFileSync(mainScript, prelude + this.vigilText);
            }
        }
    }
    globalThis.Blob = FileBlob;
    const origCreate = URL.createObjectURL;
    let n = 0;
    URL.createObjectURL = (blob) => {
        if (!(blob instanceof FileBlob) || blob.vigilText === null) {
            return origCreate(blob);
        }
        const file = path.join(tmpDir, `blob${n++}.js`);
        let text = blob.vigilText;
        if (!text.startsWith('var WasmBackendModuleThreadedSimd')) {
            // Worker script: its only createObjectURL call turns the factory Blob into a URL.
            text = `URL.createObjectURL = () => ${JSON.stringify(mainScript)};\n` + text;
        }
        fs.writeFileSync(file, text);
        return file;
    };
    return () => {
        globalThis.Blob = OrigBlob;
        URL.createObjectURL = origCreate;
    };
}

/**
 * Initialises TF.js with the WASM backend using `threads` XNNPACK threads.
 * Returns {tf, threads_requested, threads_actual, build, simd}.
 */
export async function initTfjsWasm(threads) {
    tf = await import('@tensorflow/tfjs-core');
    wasmBackend = await import('@tensorflow/tfjs-backend-wasm');
    const want = Math.max(1, Math.floor(threads));
    let restore = null;
    let restoreCpus = null;
    if (want > 1) {
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
        restore = installBlobFiles();
        const realCpus = os.cpus;
        os.cpus = () => {
            const c = realCpus.call(os);
            const out = [];
            for (let i = 0; i < 2 * want; i++) {
                out.push(c[i % c.length]);
            }
            return out;
        };
        restoreCpus = () => {
            os.cpus = realCpus;
        };
    }
    wasmBackend.setThreadsCount(want);
    try {
        const ok = await tf.setBackend('wasm');
        await tf.ready();
        if (!ok || tf.getBackend() !== 'wasm') {
            throw new Error('TF.js could not initialise the wasm backend');
        }
    } finally {
        if (restoreCpus) restoreCpus();
        if (restore) restore();
    }
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threadsActual = wasmBackend.getThreadsCount();
    return {
        tf,
        threads_requested: want,
        threads_actual: threadsActual,
        build: want > 1 ? 'threaded-simd' : simd ? 'simd' : 'plain',
        simd,
    };
}

/** An IOHandler that reads a TF.js graph model (model.json + weight shards) from a folder. */
export function fileIOHandler(modelDir) {
    return {
        load: async () => {
            const jsonPath = path.join(modelDir, 'model.json');
            const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
            const specs = [];
            const buffers = [];
            for (const group of json.weightsManifest || []) {
                specs.push(...group.weights);
                for (const p of group.paths) {
                    const file = path.resolve(modelDir, p);
                    if (!file.startsWith(path.resolve(modelDir) + path.sep)) {
                        throw new Error(`${jsonPath}: weight path ${p} leaves the model folder`);
                    }
                    buffers.push(fs.readFileSync(file));
                }
            }
            const all = Buffer.concat(buffers);
            const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
            return {
                modelTopology: json.modelTopology,
                format: json.format,
                generatedBy: json.generatedBy,
                convertedBy: json.convertedBy,
                signature: json.signature,
                userDefinedMetadata: json.userDefinedMetadata,
                modelInitializer: json.modelInitializer,
                weightSpecs: specs,
                weightData,
            };
        },
    };
}

/** Loads a graph model from a folder; call after initTfjsWasm. */
export async function loadGraphModelDir(modelDir) {
    const conv = await import('@tensorflow/tfjs-converter');
    return conv.loadGraphModel(fileIOHandler(modelDir));
}

/** Versions of the TF.js packages in use (read from their package.json files). */
export function tfjsVersions() {
    const out = {};
    for (const name of ['tfjs-core', 'tfjs-converter', 'tfjs-backend-wasm']) {
        try {
            const url = new URL(`../node_modules/@tensorflow/${name}/package.json`, import.meta.url);
            out[name] = JSON.parse(fs.readFileSync(url, 'utf8')).version;
        } catch {
            out[name] = 'unknown';
        }
    }
    return out;
}
