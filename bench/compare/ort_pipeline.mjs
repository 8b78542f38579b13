#!/usr/bin/env node
// Peer pipeline for the performance-vs-people curves: ONNX Runtime (npm onnxruntime-node, CPU
// EP, all graph optimisations) running YOLOv7-tiny + HRNet-W32 (the generated full-size models,
// random weights) sequentially, person by person, with ground-truth person boxes. Prints CSV.
//
//   node bench/compare/ort_pipeline.mjs [--persons 0,1,2,3,5,8,12,20] [--frames 10]
//        [--detector yolov7-tiny|yolov7] [--threads 2] [--warmup 3] [--csv FILE]
//
// Per frame (timed): letterbox to 640x640 (bilinear, pad 114, RGB, /255, NCHW), YOLOv7
// (output [1,25200,85]), decode (objectness x class score >= 0.25, person class, greedy NMS
// IoU 0.45; with random weights the result is meaningless and unused, but its cost is real),
// then for each ground-truth box: HRNet top-down crop (centre and scale from the box with
// aspect 192:256 and x1.25, bilinear warp to 192x256, ImageNet mean/std), HRNet-W32 batch 1,
// arg-max decode of the 17 heatmaps. Frames per person count follow lib/images.mjs (gt mode).
// JPEG decoding happens before timing. Models come from build/onnx-models
// (bench/gen-onnx-models.sh; $VIGIL_ONNX_MODELS overrides).

import fs from 'node:fs';
import path from 'node:path';
import { ONNX_MODELS, SHARED, die, mean, now, parseArgs, quantile } from '../lib/common.mjs';
import { decodeJpeg, framesFor, loadGroundTruth, nms } from '../lib/images.mjs';

const USAGE = `usage: node bench/compare/ort_pipeline.mjs [--persons LIST] [--frames N]
       [--detector yolov7-tiny|yolov7] [--threads N] [--warmup N] [--csv FILE]
`;
const args = parseArgs(process.argv.slice(2), {
    persons: '0,1,2,3,5,8,12,20',
    frames: 10,
    detector: 'yolov7-tiny',
    threads: 2,
    warmup: 3,
    csv: '',
}, USAGE);
if (!['yolov7-tiny', 'yolov7'].includes(args.detector)) die('--detector: yolov7-tiny or yolov7');

const ort = (await import('onnxruntime-node')).default;
const opts = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
};
for (const f of [`${args.detector}.onnx`, 'hrnet-w32.onnx']) {
    if (!fs.existsSync(path.join(ONNX_MODELS, f))) {
        die(`${path.join(ONNX_MODELS, f)} missing: run bench/gen-onnx-models.sh`);
    }
}
const det = await ort.InferenceSession.create(path.join(ONNX_MODELS, `${args.detector}.onnx`), opts);
const pose = await ort.InferenceSession.create(path.join(ONNX_MODELS, 'hrnet-w32.onnx'), opts);

const S = 640;
const PW = 192;
const PH = 256;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

// Bilinear resampling of an RGB24 image into a planar float32 NCHW buffer: output pixel (u, v)
// samples source (x0 + (u + 0.5) * sx - 0.5, y0 + (v + 0.5) * sy - 0.5); samples outside the
// image get `fill`; out = (round(value) / 255 - mean[c]) / std[c].
function warp(px, dst, ow, oh, x0, y0, sx, sy, fill, meanv, stdv) {
    const { width: W, height: H, data } = px;
    const xa = new Int32Array(ow);
    const xb = new Int32Array(ow);
    const xw = new Float32Array(ow);
    const xin = new Uint8Array(ow);
    for (let u = 0; u < ow; u++) {
        const x = x0 + (u + 0.5) * sx - 0.5;
        xin[u] = x >= -0.5 && x <= W - 0.5 ? 1 : 0;
        const f = Math.max(0, Math.floor(x));
        xa[u] = Math.min(W - 1, f);
        xb[u] = Math.min(W - 1, f + 1);
        xw[u] = Math.min(1, Math.max(0, x - f));
    }
    const plane = ow * oh;
    for (let v = 0; v < oh; v++) {
        const y = y0 + (v + 0.5) * sy - 0.5;
        const yin = y >= -0.5 && y <= H - 0.5;
        const f = Math.max(0, Math.floor(y));
        const ra = Math.min(H - 1, f) * W * 3;
        const rb = Math.min(H - 1, f + 1) * W * 3;
        const wy = Math.min(1, Math.max(0, y - f));
        for (let u = 0; u < ow; u++) {
            const o = v * ow + u;
            if (!yin || !xin[u]) {
                for (let c = 0; c < 3; c++) dst[c * plane + o] = (fill / 255 - meanv[c]) / stdv[c];
                continue;
            }
            const a = xa[u] * 3;
            const b = xb[u] * 3;
            const wx = xw[u];
            for (let c = 0; c < 3; c++) {
                const t = data[ra + a + c] + (data[ra + b + c] - data[ra + a + c]) * wx;
                const btm = data[rb + a + c] + (data[rb + b + c] - data[rb + a + c]) * wx;
                dst[c * plane + o] = (Math.round(t + (btm - t) * wy) / 255 - meanv[c]) / stdv[c];
            }
        }
    }
}

const detInput = new Float32Array(3 * S * S);
async function detect(px) {
    const { width: W, height: H } = px;
    const r = Math.min(S / W, S / H);
    const nw = Math.round(W * r);
    const nh = Math.round(H * r);
    const dx = Math.floor((S - nw) / 2);
    const dy = Math.floor((S - nh) / 2);
    // Letterbox: resize into [dx, dx + nw) x [dy, dy + nh), pad 114 elsewhere.
    const inner = new Float32Array(3 * nw * nh);
    warp(px, inner, nw, nh, 0, 0, W / nw, H / nh, 114, [0, 0, 0], [1, 1, 1]);
    detInput.fill(114 / 255);
    for (let c = 0; c < 3; c++) {
        for (let y = 0; y < nh; y++) {
            detInput.set(inner.subarray(c * nw * nh + y * nw, c * nw * nh + (y + 1) * nw),
                c * S * S + (y + dy) * S + dx);
        }
    }
    const out = await det.run({ [det.inputNames[0]]: new ort.Tensor('float32', detInput, [1, 3, S, S]) });
    const o = out[det.outputNames[0]].data;
    const rows = o.length / 85;
    const cands = [];
    for (let i = 0; i < rows; i++) {
        const b = i * 85;
        const score = o[b + 4] * o[b + 5];
        if (!(score >= 0.25)) continue;
        const [cx, cy, w, h] = [o[b], o[b + 1], o[b + 2], o[b + 3]];
        cands.push({ box: [(cx - w / 2 - dx) / r, (cy - h / 2 - dy) / r,
            (cx + w / 2 - dx) / r, (cy + h / 2 - dy) / r], score });
    }
    cands.sort((a, b) => b.score - a.score);
    return nms(cands.slice(0, 3000), 0.45, 300);
}

const poseInput = new Float32Array(3 * PH * PW);
async function poseOne(px, box) {
    const [x1, y1, x2, y2] = box;
    let w = x2 - x1;
    let h = y2 - y1;
    const cx = x1 + w / 2;
    const cy = y1 + h / 2;
    if (w > (PW / PH) * h) h = w * (PH / PW);
    else w = h * (PW / PH);
    w *= 1.25;
    h *= 1.25;
    const sx0 = cx - w / 2;
    const sy0 = cy - h / 2;
    warp(px, poseInput, PW, PH, sx0, sy0, w / PW, h / PH, 0, MEAN, STD);
    const out = await pose.run({ [pose.inputNames[0]]: new ort.Tensor('float32', poseInput, [1, 3, PH, PW]) });
    const hm = out[pose.outputNames[0]].data;
    const HW = 64 * 48;
    const kp = new Float32Array(17 * 3);
    for (let k = 0; k < 17; k++) {
        let best = -Infinity;
        let arg = 0;
        for (let i = 0; i < HW; i++) {
            if (hm[k * HW + i] > best) {
                best = hm[k * HW + i];
                arg = i;
            }
        }
        kp[3 * k] = sx0 + ((arg % 48) + 0.5) * (w / 48);
        kp[3 * k + 1] = sy0 + (Math.floor(arg / 48) + 0.5) * (h / 64);
        kp[3 * k + 2] = best;
    }
    return kp;
}

const images = loadGroundTruth(SHARED);
const decoded = new Map();
function pixels(im) {
    if (!decoded.has(im.file)) decoded.set(im.file, decodeJpeg(im.file));
    return decoded.get(im.file);
}

let detMs = [];
let poseMs = [];
async function frame(fr) {
    const px = pixels(fr.image);
    const t0 = now();
    await detect(px);
    detMs.push(now() - t0);
    for (const box of fr.boxes) {
        const t1 = now();
        await poseOne(px, box);
        poseMs.push(now() - t1);
    }
    return fr.boxes.length;
}

{
    const im = images.find((x) => x.boxes.length > 0);
    for (let i = 0; i < args.warmup; i++) await frame({ image: im, boxes: [im.boxes[0]] });
}

const header = 'runtime,detector,pose,threads,boxes,persons,frames,images,poses_per_frame,fps,' +
    'latency_mean_ms,latency_p95_ms,poses_per_s,det_ms,pose_ms';
const lines = [header];
process.stdout.write(header + '\n');
for (const k of args.persons.split(',').map(Number)) {
    const frames = framesFor(images, k, 'gt');
    detMs = [];
    poseMs = [];
    const lat = [];
    let poses = 0;
    const t0 = now();
    for (let f = 0; f < args.frames; f++) {
        const s = now();
        poses += await frame(frames[f % frames.length]);
        lat.push(now() - s);
    }
    const wall = (now() - t0) / 1000;
    const r = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '');
    const line = ['onnxruntime', args.detector, 'hrnet-w32', args.threads, 'gt', k, args.frames,
        frames.length, r(poses / args.frames), r(args.frames / wall), r(mean(lat)),
        r(quantile(lat, 0.95)), r(poses / wall), r(mean(detMs)),
        poseMs.length ? r(mean(poseMs)) : ''].join(',');
    lines.push(line);
    process.stdout.write(line + '\n');
}
if (args.csv) fs.writeFileSync(args.csv, lines.join('\n') + '\n');
