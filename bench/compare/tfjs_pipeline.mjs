#!/usr/bin/env node
// Peer pipeline for the performance-vs-people curves: TF.js with the WASM backend running the
// default detector (CenterNet) and MoveNet Thunder as the usual JavaScript pose pipelines do:
// sequentially, detect, then loop over the persons one by one (crop, pose). Prints CSV.
//
//   node bench/compare/tfjs_pipeline.mjs [--persons 0,1,2,3,5,8,12,20] [--frames 20]
//        [--boxes gt|detect] [--pose movenet-thunder|movenet-lightning] [--threads 2]
//        [--warmup 20] [--csv FILE]
//
// Per frame (timed): pixels -> tensor, letterbox 512x512 (resizeBilinear with half-pixel
// centres, zero padding), CenterNet, decode (score >= 0.3, class person, greedy NMS IoU 0.5,
// boxes to source pixels), then for each person: square crop (1.25 x longer side) with
// tf.image.cropAndResize (bilinear, extrapolation 0), cast to int32, MoveNet, read keypoints.
// This is the recipe of ../shared/golden. JPEG decoding happens before timing.
// --boxes gt (default) loops over the ground-truth boxes chosen for each person count
// (lib/images.mjs, the same frames vigil's `bench pipeline --boxes gt` uses), while the
// detector still runs on every frame; --boxes detect groups the annotated images by their
// ground-truth person count and loops over whatever the detector finds.
// Columns: FPS = frames / wall time; latency = one frame's end-to-end time (sequential, so
// latency = service time); poses/s = poses / wall time; det_ms and pose_ms = mean time of the
// detector step per frame and of one person's pose step.

import fs from 'node:fs';
import path from 'node:path';
import { SHARED, die, mean, now, parseArgs, quantile } from '../lib/common.mjs';
import { decodeJpeg, framesFor, loadGroundTruth, nms, squareCrop } from '../lib/images.mjs';
import { initTfjsWasm, loadGraphModelDir } from '../lib/tfjs_wasm.mjs';

const USAGE = `usage: node bench/compare/tfjs_pipeline.mjs [--persons LIST] [--frames N]
       [--boxes gt|detect] [--pose NAME] [--threads N] [--warmup N] [--csv FILE]
`;
const args = parseArgs(process.argv.slice(2), {
    persons: '',
    frames: 20,
    boxes: 'gt',
    pose: 'movenet-thunder',
    threads: 2,
    warmup: 20,
    csv: '',
}, USAGE);
if (args.boxes !== 'gt' && args.boxes !== 'detect') die('--boxes must be gt or detect');
if (!['movenet-thunder', 'movenet-lightning'].includes(args.pose)) {
    die('--pose must be movenet-thunder or movenet-lightning');
}
const POSE_SIZE = args.pose === 'movenet-thunder' ? 256 : 192;
const DET_SIZE = 512;

const images = loadGroundTruth(SHARED);
const personList = args.persons
    ? args.persons.split(',').map(Number)
    : args.boxes === 'gt' ? [0, 1, 2, 3, 5, 8, 12, 20]
        : [...new Set(images.map((im) => im.boxes.length))].sort((a, b) => a - b);

const setup = await initTfjsWasm(args.threads);
const { tf } = setup;
const det = await loadGraphModelDir(path.join(SHARED, 'models', 'centernet'));
const pose = await loadGraphModelDir(path.join(SHARED, 'models', args.pose));

const decoded = new Map();
function pixels(im) {
    if (!decoded.has(im.file)) decoded.set(im.file, decodeJpeg(im.file));
    return decoded.get(im.file);
}

// Detector step: returns person boxes in source pixels.
function detect(img, W, H) {
    return tf.tidy(() => {
        const scale = Math.min(DET_SIZE / W, DET_SIZE / H);
        const nw = Math.min(DET_SIZE, Math.floor(W * scale + 0.5));
        const nh = Math.min(DET_SIZE, Math.floor(H * scale + 0.5));
        const dx = Math.floor((DET_SIZE - nw) / 2);
        const dy = Math.floor((DET_SIZE - nh) / 2);
        let x = img;
        if (nw !== W || nh !== H) x = tf.image.resizeBilinear(img, [nh, nw], false, true);
        x = tf.expandDims(tf.pad(x, [[dy, DET_SIZE - nh - dy], [dx, DET_SIZE - nw - dx], [0, 0]]), 0);
        const rows = det.execute({ 'tower_0/images': x }, 'tower_0/detections').dataSync();
        const cands = [];
        for (let r = 0; r < 100; r++) {
            const o = r * 6;
            if (rows[o + 4] < 0.3 || rows[o + 5] !== 0) continue;
            const bx = [(rows[o] - dx) * W / nw, (rows[o + 1] - dy) * H / nh,
                (rows[o + 2] - dx) * W / nw, (rows[o + 3] - dy) * H / nh];
            bx[0] = Math.min(Math.max(bx[0], 0), W);
            bx[2] = Math.min(Math.max(bx[2], 0), W);
            bx[1] = Math.min(Math.max(bx[1], 0), H);
            bx[3] = Math.min(Math.max(bx[3], 0), H);
            cands.push({ box: bx, score: rows[o + 4] });
        }
        cands.sort((a, b) => b.score - a.score);
        return nms(cands, 0.5, 100).map((c) => c.box);
    });
}

// Pose step for one person: returns 17 keypoints (x, y, score) in source pixels.
function poseOne(img4d, W, H, box) {
    return tf.tidy(() => {
        const [x1, y1, x2, y2] = squareCrop(box);
        const b = [y1 / (H - 1), x1 / (W - 1), y2 / (H - 1), x2 / (W - 1)];
        const crop = tf.cast(tf.image.cropAndResize(img4d, [b], [0], [POSE_SIZE, POSE_SIZE],
            'bilinear', 0), 'int32');
        const out = pose.execute({ 'input:0': crop }, 'Identity:0').dataSync();
        const kp = new Float32Array(17 * 3);
        for (let k = 0; k < 17; k++) {
            kp[3 * k] = x1 + out[3 * k + 1] * (x2 - x1);
            kp[3 * k + 1] = y1 + out[3 * k] * (y2 - y1);
            kp[3 * k + 2] = out[3 * k + 2];
        }
        return kp;
    });
}

let detMs = [];
let poseMs = [];
function frame(fr) {
    const px = pixels(fr.image);
    const W = px.width;
    const H = px.height;
    const img = tf.tensor3d(Float32Array.from(px.data), [H, W, 3], 'float32');
    const t0 = now();
    const found = detect(img, W, H);
    detMs.push(now() - t0);
    const persons = fr.boxes === null ? found : fr.boxes;
    const img4d = tf.expandDims(img, 0);
    for (const box of persons) {
        const t1 = now();
        poseOne(img4d, W, H, box);
        poseMs.push(now() - t1);
    }
    tf.dispose([img, img4d]);
    return persons.length;
}

// Warm-up: >= `warmup` runs of each model (WebAssembly tiers up in the background).
{
    const im = images.find((x) => x.boxes.length > 0);
    for (let i = 0; i < args.warmup; i++) frame({ image: im, boxes: [im.boxes[0]] });
}

const header = 'runtime,detector,pose,threads,boxes,persons,frames,images,poses_per_frame,fps,' +
    'latency_mean_ms,latency_p95_ms,poses_per_s,det_ms,pose_ms';
const lines = [header];
process.stdout.write(header + '\n');
for (const k of personList) {
    const frames = framesFor(images, k, args.boxes);
    if (frames.length === 0) {
        process.stderr.write(`tfjs_pipeline: no annotated image has ${k} persons; skipped\n`);
        continue;
    }
    for (const fr of frames) pixels(fr.image);
    detMs = [];
    poseMs = [];
    const lat = [];
    let poses = 0;
    const t0 = now();
    for (let f = 0; f < args.frames; f++) {
        const s = now();
        poses += frame(frames[f % frames.length]);
        lat.push(now() - s);
    }
    const wall = (now() - t0) / 1000;
    const r = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '');
    const line = ['tfjs-wasm', 'centernet', args.pose, setup.threads_actual, args.boxes, k,
        args.frames, frames.length, r(poses / args.frames), r(args.frames / wall),
        r(mean(lat)), r(quantile(lat, 0.95)), r(poses / wall), r(mean(detMs)),
        poseMs.length ? r(mean(poseMs)) : ''].join(',');
    lines.push(line);
    process.stdout.write(line + '\n');
}
if (args.csv) fs.writeFileSync(args.csv, lines.join('\n') + '\n');
process.exit(0);
