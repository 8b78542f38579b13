#!/usr/bin/env python3
"""Independent reference of the COCO bbox/keypoint evaluation, in plain Python.

A second, separately written implementation of the COCO evaluation rules
(pycocotools COCOeval semantics: greedy matching in score order, crowd and
num_keypoints == 0 ignore rules, area ranges, maxDets per image, 101-point
interpolated precision), used to cross-check `vigil eval` and as the origin of
the pinned numbers in coco_eval_test.c. No third-party modules.

  coco_eval_ref.py GT.json RESULTS.json bbox|keypoints
      prints the 12 (bbox) or 10 (keypoints) summary numbers
  coco_eval_ref.py --compare path/to/vigil N
      evaluates N random cases (crowds, unlabelled keypoints, ties, several
      categories, box-less pose results) with both and reports any difference
      above 1e-9
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from collections import defaultdict

EPS = 2.220446049250313e-16  # numpy.spacing(1)


def linspace(a, b, n):
    """numpy.linspace, value for value (the thresholds must tie the same way)."""
    step = (b - a) / (n - 1)
    y = [i * step + a for i in range(n)]
    y[-1] = b
    return y


SIGMAS = [v / 10.0 for v in [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07,
                              .87, .87, .89, .89]]


def load_results(res):
    """Areas and ids as the COCO results loader sets them (decided by entry 0)."""
    res = [dict(r) for r in res]
    if "bbox" in res[0] and res[0]["bbox"] != []:
        for i, a in enumerate(res):
            bb = a["bbox"]
            a["area"] = bb[2] * bb[3]
            a["id"] = i + 1
            a["iscrowd"] = 0
    else:
        for i, a in enumerate(res):
            s = a["keypoints"]
            x, y = s[0::3], s[1::3]
            x0, x1, y0, y1 = min(x), max(x), min(y), max(y)
            a["area"] = (x1 - x0) * (y1 - y0)
            a["id"] = i + 1
            a["bbox"] = [x0, y0, x1 - x0, y1 - y0]
    return res


def box_iou(d, g, crowd):
    w = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    i = w * h
    da, ga = d[2] * d[3], g[2] * g[3]
    return i / (da if crowd else da + ga - i)


def oks(d, g):
    gk = g["keypoints"]
    xg, yg, vg = gk[0::3], gk[1::3], gk[2::3]
    labelled = sum(1 for v in vg if v > 0)
    bb = g["bbox"]
    x0, x1 = bb[0] - bb[2], bb[0] + bb[2] * 2
    y0, y1 = bb[1] - bb[3], bb[1] + bb[3] * 2
    xd, yd = d["keypoints"][0::3], d["keypoints"][1::3]
    es = []
    for k in range(17):
        if labelled:
            if not vg[k] > 0:
                continue
            dx, dy = xd[k] - xg[k], yd[k] - yg[k]
        else:
            dx = max(0, x0 - xd[k]) + max(0, xd[k] - x1)
            dy = max(0, y0 - yd[k]) + max(0, yd[k] - y1)
        es.append((dx ** 2 + dy ** 2) / ((SIGMAS[k] * 2) ** 2) / (g["area"] + EPS) / 2)
    return sum(math.exp(-e) for e in es) / len(es)


def ranked(dets):
    return sorted(dets, key=lambda d: -d["score"])  # stable: file order breaks ties


def run(gt_path, res_path, iou_type):
    """Returns the 12 (bbox) or 10 (keypoints) summary numbers."""
    gt_json = json.load(open(gt_path))
    res = load_results(json.load(open(res_path)))
    img_ids = sorted(i["id"] for i in gt_json["images"])
    cat_ids = sorted(set(c["id"] for c in gt_json["categories"]))
    anns = [dict(a) for a in gt_json["annotations"]]
    if iou_type == "bbox":
        max_dets = [1, 10, 100]
        area_rng = [[0, 1e5 ** 2], [0, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
    else:
        max_dets = [20]
        area_rng = [[0, 1e5 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
    iou_thrs = linspace(.5, .95, 10)
    rec_thrs = linspace(0., 1., 101)
    T, R = len(iou_thrs), len(rec_thrs)
    for g in anns:
        g["ignore"] = bool(g.get("iscrowd", 0))
        if iou_type == "keypoints":
            g["ignore"] = g["num_keypoints"] == 0 or g["ignore"]
    gts, dts = defaultdict(list), defaultdict(list)
    for g in anns:
        gts[g["image_id"], g["category_id"]].append(g)
    for d in res:
        dts[d["image_id"], d["category_id"]].append(d)

    def similarity(img, cat):
        gt, dt = gts[img, cat], ranked(dts[img, cat])[:max_dets[-1]]
        if iou_type == "bbox":
            if not gt and not dt:
                return []
            return [[box_iou(d["bbox"], g["bbox"], g["iscrowd"]) for g in gt] for d in dt]
        if not gt or not dt:
            return []
        return [[oks(d, g) for g in gt] for d in dt]

    sims = {(i, c): similarity(i, c) for i in img_ids for c in cat_ids}

    def match_image(img, cat, rng):
        gt, dt = gts[img, cat], dts[img, cat]
        if not gt and not dt:
            return None
        ig = [1 if (g["ignore"] or g["area"] < rng[0] or g["area"] > rng[1]) else 0 for g in gt]
        order = sorted(range(len(gt)), key=lambda j: ig[j])  # regular gts first, stable
        gt_ig = [ig[j] for j in order]
        crowd = [int(gt[j].get("iscrowd", 0)) for j in order]
        dt = ranked(dt)[:max_dets[-1]]
        sim = sims[img, cat]
        G, D = len(order), len(dt)
        gt_taken = [[False] * G for _ in range(T)]
        dt_match = [[False] * D for _ in range(T)]
        dt_ig = [[False] * D for _ in range(T)]
        if len(sim):
            for t, thr in enumerate(iou_thrs):
                for di in range(D):
                    best, m = min(thr, 1 - 1e-10), -1
                    for gi in range(G):
                        if gt_taken[t][gi] and not crowd[gi]:
                            continue
                        if m > -1 and gt_ig[m] == 0 and gt_ig[gi] == 1:
                            break
                        v = sim[di][order[gi]]
                        if v < best:
                            continue
                        best, m = v, gi
                    if m == -1:
                        continue
                    dt_ig[t][di] = bool(gt_ig[m])
                    dt_match[t][di] = True
                    gt_taken[t][m] = True
        for di, d in enumerate(dt):
            outside = d["area"] < rng[0] or d["area"] > rng[1]
            for t in range(T):
                dt_ig[t][di] = dt_ig[t][di] or (not dt_match[t][di] and outside)
        return {"scores": [d["score"] for d in dt], "match": dt_match, "ignore": dt_ig,
                "n_regular": gt_ig.count(0)}

    evals = {(c, a, i): match_image(i, c, rng)
             for c in cat_ids for a, rng in enumerate(area_rng) for i in img_ids}
    prec, rec = {}, {}
    for c in cat_ids:
        for a in range(len(area_rng)):
            for m, md in enumerate(max_dets):
                es = [evals[c, a, i] for i in img_ids if evals[c, a, i] is not None]
                if not es:
                    continue
                items = [(e, di) for e in es for di in range(min(md, len(e["scores"])))]
                items = sorted(items, key=lambda x: -x[0]["scores"][x[1]])
                npig = sum(e["n_regular"] for e in es)
                if npig == 0:
                    continue
                for t in range(T):
                    tp = fp = 0
                    rc, pr = [], []
                    for e, di in items:
                        if not e["ignore"][t][di]:
                            if e["match"][t][di]:
                                tp += 1
                            else:
                                fp += 1
                        rc.append(tp / npig)
                        pr.append(tp / (fp + tp + EPS))
                    nd = len(rc)
                    rec[t, c, a, m] = rc[-1] if nd else 0
                    for i in range(nd - 1, 0, -1):
                        pr[i - 1] = max(pr[i - 1], pr[i])
                    for ri, r in enumerate(rec_thrs):
                        pi = next((j for j, v in enumerate(rc) if v >= r), nd)
                        prec[t, ri, c, a, m] = pr[pi] if pi < nd else 0.0

    def summary(ap, thr=None, area=0, md=100):
        m = max_dets.index(md)
        vals = []
        for t in (range(T) if thr is None else [thr]):
            for c in cat_ids:
                if ap:
                    vals += [prec.get((t, r, c, area, m), -1) for r in range(R)]
                else:
                    vals.append(rec.get((t, c, area, m), -1))
        vals = [v for v in vals if v > -1]
        return sum(vals) / len(vals) if vals else -1

    if iou_type == "bbox":
        return [summary(1), summary(1, 0), summary(1, 5), summary(1, None, 1),
                summary(1, None, 2), summary(1, None, 3), summary(0, md=1), summary(0, md=10),
                summary(0), summary(0, None, 1), summary(0, None, 2), summary(0, None, 3)]
    return [summary(1, md=20), summary(1, 0, md=20), summary(1, 5, md=20),
            summary(1, None, 1, 20), summary(1, None, 2, 20), summary(0, md=20),
            summary(0, 0, md=20), summary(0, 5, md=20), summary(0, None, 1, 20),
            summary(0, None, 2, 20)]


def random_case(seed):
    """A random gt (1-6 images, two categories, ~10% crowds, unlabelled
    keypoints) and results (jittered copies of the gts, false positives,
    repeated scores for ties; 30% of the cases without boxes)."""
    rnd = random.Random(seed)
    images = [{"id": i * 7 + 3, "file_name": "x%d.jpg" % i, "width": 640, "height": 480}
              for i in range(rnd.randint(1, 6))]
    anns, res = [], []
    for im in images:
        for _ in range(rnd.randint(0, 8)):
            w = rnd.choice([rnd.uniform(5, 30), rnd.uniform(30, 90), rnd.uniform(90, 300)])
            h = w * rnd.uniform(0.5, 2)
            x, y = rnd.uniform(0, 500), rnd.uniform(0, 400)
            kp = []
            for _k in range(17):
                v = rnd.choice([0, 1, 2, 2, 2])
                kp += [x + rnd.uniform(0, w), y + rnd.uniform(0, h), v] if v else [0, 0, 0]
            cat = rnd.choice([1, 1, 1, 2])
            anns.append({"id": len(anns) + 1, "image_id": im["id"], "category_id": cat,
                         "iscrowd": 1 if rnd.random() < 0.1 else 0, "bbox": [x, y, w, h],
                         "area": w * h * rnd.uniform(0.4, 1.0),
                         "num_keypoints": sum(1 for v in kp[2::3] if v > 0), "keypoints": kp})
            for _ in range(rnd.choice([0, 1, 1, 2])):
                jit = rnd.choice([0.02, 0.1, 0.3]) * w
                dk = []
                for k in range(17):
                    gx, gy = (kp[3 * k], kp[3 * k + 1]) if kp[3 * k + 2] else (x + w / 2, y + h / 2)
                    dk += [gx + rnd.gauss(0, jit), gy + rnd.gauss(0, jit), rnd.random()]
                bb = [x + rnd.gauss(0, jit), y + rnd.gauss(0, jit), w * rnd.uniform(0.8, 1.2),
                      h * rnd.uniform(0.8, 1.2)]
                res.append({"image_id": im["id"], "category_id": cat, "bbox": bb,
                            "keypoints": dk, "score": rnd.choice([0.5, rnd.random()])})
        for _ in range(rnd.randint(0, 4)):
            x, y = rnd.uniform(0, 500), rnd.uniform(0, 400)
            w, h = rnd.uniform(5, 200), rnd.uniform(5, 200)
            dk = [v for _k in range(17)
                  for v in (x + rnd.uniform(0, w), y + rnd.uniform(0, h), 0.3)]
            res.append({"image_id": im["id"], "category_id": rnd.choice([1, 2]),
                        "bbox": [x, y, w, h], "keypoints": dk,
                        "score": rnd.choice([0.5, rnd.random()])})
    rnd.shuffle(res)
    if rnd.random() < 0.3:
        for r in res:
            del r["bbox"]
    if not res:
        res = [{"image_id": images[0]["id"], "category_id": 1, "bbox": [1, 1, 5, 5],
                "keypoints": [1] * 51, "score": 0.1}]
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "other"}]}
    return gt, res


def compare(vigil, n):
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        g, r = os.path.join(tmp, "g.json"), os.path.join(tmp, "r.json")
        for seed in range(n):
            gt, res = random_case(seed)
            json.dump(gt, open(g, "w"))
            json.dump(res, open(r, "w"))
            for t in ("bbox", "keypoints"):
                if t == "bbox" and "bbox" not in res[0]:
                    continue
                want = run(g, r, t)
                out = subprocess.run([vigil, "eval", "--gt", g, "--results", r, "--iou-type", t,
                                      "--quiet", "--json", "-"], capture_output=True, text=True)
                if out.returncode:
                    print("case %d %s: vigil failed: %s" % (seed, t, out.stderr.strip()))
                    bad += 1
                    continue
                got = list(json.loads(out.stdout)["stats"].values())
                d = max(abs(a - b) for a, b in zip(want, got))
                if d > 1e-9:
                    print("case %d %s: max difference %g\n  ref   %s\n  vigil %s"
                          % (seed, t, d, want, got))
                    bad += 1
    print("%d cases, %d differ" % (n, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], int(sys.argv[3])))
    if len(sys.argv) != 4 or sys.argv[3] not in ("bbox", "keypoints"):
        print(__doc__)
        sys.exit(2)
    print(", ".join("%.12f" % v for v in run(sys.argv[1], sys.argv[2], sys.argv[3])))
