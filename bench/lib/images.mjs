// Images and ground-truth person boxes for the pipeline peers (bench/compare/*.mjs).
//
// JPEGs are decoded once, before any timing, with the ffmpeg command-line tool (Debian
// package ffmpeg) into RGB24; the peers time the pipeline from decoded pixels on, so decoding
// is not part of the comparison. The frame sets for each person count k follow one recipe,
// which vigil's `bench pipeline --boxes gt` sweep should match:
//   * gt mode: the annotated image (annotations/person_keypoints_shared.json, non-crowd
//     persons) with the smallest person count >= k, ties by file name; its first k boxes in
//     annotation order. When no image has k persons, the image with the most persons is used and
//     its boxes are repeated cyclically until there are k. k = 0 uses the first annotated image
//     with no boxes.
//   * detect mode: every annotated image whose ground-truth person count is exactly k; the
//     pose stage then loops over the detector's persons, however many it finds.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Reads width and height from a JPEG's SOFn marker. */
export function jpegSize(file) {
    const b = fs.readFileSync(file);
    if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error(`${file}: not a JPEG file`);
    let i = 2;
    while (i + 9 < b.length) {
        if (b[i] !== 0xff) {
            i++;
            continue;
        }
        const m = b[i + 1];
        if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7) || m === 0xff) {
            i += m === 0xff ? 1 : 2;
            continue;
        }
        const len = b.readUInt16BE(i + 2);
        if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
            return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
        }
        i += 2 + len;
    }
    throw new Error(`${file}: no SOF marker found`);
}

/** Decodes a JPEG to {width, height, data: Uint8Array RGB24 row-major}. */
export function decodeJpeg(file) {
    const { width, height } = jpegSize(file);
    let out;
    try {
        out = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt',
            'rgb24', '-'], { maxBuffer: width * height * 3 + (1 << 20) });
    } catch (e) {
        throw new Error(`${file}: ffmpeg could not decode it (${e.message.split('\n')[0]}); ` +
            'install Debian package ffmpeg');
    }
    if (out.length !== width * height * 3) {
        throw new Error(`${file}: decoded ${out.length} bytes, expected ${width}x${height}x3`);
    }
    return { width, height, data: new Uint8Array(out.buffer, out.byteOffset, out.length) };
}

/** Loads the ground truth: [{file, width, height, boxes: [[x1,y1,x2,y2], ...]}], by file name. */
export function loadGroundTruth(sharedDir) {
    const annFile = path.join(sharedDir, 'data', 'annotations', 'person_keypoints_shared.json');
    const gt = JSON.parse(fs.readFileSync(annFile, 'utf8'));
    const byId = new Map();
    for (const im of gt.images) {
        byId.set(im.id, { file: path.join(sharedDir, 'data', 'images', im.file_name),
            name: im.file_name, width: im.width, height: im.height, boxes: [] });
    }
    for (const a of gt.annotations) {
        if (a.iscrowd || a.category_id !== 1 || !byId.has(a.image_id)) continue;
        const [x, y, w, h] = a.bbox;
        byId.get(a.image_id).boxes.push([x, y, x + w, y + h]);
    }
    return [...byId.values()].sort((p, q) => (p.name < q.name ? -1 : p.name > q.name ? 1 : 0));
}

/** Frames for person count k: [{image, boxes}] (see the recipe at the top of this file). */
export function framesFor(images, k, mode) {
    if (mode === 'detect') {
        return images.filter((im) => im.boxes.length === k).map((im) => ({ image: im, boxes: null }));
    }
    if (k === 0) return [{ image: images[0], boxes: [] }];
    const enough = images.filter((im) => im.boxes.length >= k);
    let im;
    if (enough.length) {
        im = enough.reduce((a, b) => (b.boxes.length < a.boxes.length ? b : a));
    } else {
        im = images.reduce((a, b) => (b.boxes.length > a.boxes.length ? b : a));
    }
    const boxes = [];
    for (let i = 0; i < k; i++) boxes.push(im.boxes[i % im.boxes.length]);
    return [{ image: im, boxes }];
}

/** Square crop around a person box (side = 1.25 x the longer side), as the goldens do. */
export function squareCrop(box) {
    const [x1, y1, x2, y2] = box;
    const cx = (x1 + x2) / 2;
    const cy = (y1 + y2) / 2;
    const side = Math.max(x2 - x1, y2 - y1) * 1.25;
    return [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2];
}

/** Greedy NMS on [{box:[x1,y1,x2,y2], score}] sorted by score descending. */
export function nms(cands, iouThr, maxDet) {
    const keep = [];
    for (const c of cands) {
        let ok = true;
        for (const k of keep) {
            const iw = Math.max(0, Math.min(c.box[2], k.box[2]) - Math.max(c.box[0], k.box[0]));
            const ih = Math.max(0, Math.min(c.box[3], k.box[3]) - Math.max(c.box[1], k.box[1]));
            const inter = iw * ih;
            const ua = (c.box[2] - c.box[0]) * (c.box[3] - c.box[1]) +
                (k.box[2] - k.box[0]) * (k.box[3] - k.box[1]) - inter;
            if (ua > 0 && inter / ua > iouThr) {
                ok = false;
                break;
            }
        }
        if (ok) {
            keep.push(c);
            if (keep.length >= maxDet) break;
        }
    }
    return keep;
}
