#!/usr/bin/env python3
"""GPU benchmark: vigil's cuda backend against PyTorch on the same GPU, same
architectures, in the same run.

    bench.py models --out DIR
        Builds the models of $VIGIL_SHARED/tools/onnx-models/models.py (imported
        at run time, never copied) with their fixed-seed weights, BatchNorm folded
        (models.calibrate), and writes:
          DIR/onnx/      the ONNX reference set of ../shared/onnx, remade here
                         (yolov7-tiny, hrnet-mini-w8, hrnet-mini-w8-dynbatch: model,
                         input and ONNX Runtime CPU output, same file names) for
                         the gpu tests, since ../shared does not travel to the
                         GPU machine; also torch-fp16-error.json, PyTorch's own
                         fp32/fp16 error on those models by the tests' metric
          DIR/bench/     hrnet-w32-dynbatch.onnx and yolov7.onnx for `bench.py run`,
                         which rebuilds the same PyTorch modules (they do not pickle)
    bench.py run --models DIR/bench [--vigil VIGIL | --vigil-bench VIGIL_GPU_BENCH]
                 [--json OUT.json] [--markdown OUT.md]
        HRNet-W32 256x192 at batch 1, 8, 32, 64 and YOLOv7 640 at batch 1, in fp32
        and fp16, on vigil (`vigil bench model --backend cuda --device cuda:0
        --precision P --shape ...`, or vigil_gpu_bench in builds without the CLI)
        and on PyTorch (channels_last, cudnn.benchmark, fp16 through autocast).
        Prints a table (poses/s or frames/s, latency, vigil/PyTorch ratio) and
        writes it as JSON and Markdown.

Timing, both sides: median wall time of one inference after warm-up, host
memory in and out. vigil's side writes the input into the session's page-locked
buffer (vg_session_input_buffer) before each run, outside the timing, and its
run copies it to the GPU and the output back; PyTorch is timed the same way
(pinned host input copied in, output copied to the host, synchronised):
`torch_ms`; the time of the model alone on the GPU (input already there, no
copy back) is reported as `torch_device_ms`.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HRNET_BATCHES = (1, 8, 32, 64)


def shared_tools():
    shared = os.environ.get("VIGIL_SHARED")
    if not shared:
        here = os.path.dirname(os.path.abspath(__file__))
        shared = os.path.normpath(os.path.join(here, "..", "..", "..", "shared"))
    tools = os.path.join(shared, "tools", "onnx-models")
    if not os.path.exists(os.path.join(tools, "models.py")):
        sys.exit(f"bench.py: {tools}/models.py not found; set VIGIL_SHARED to the shared "
                 "reference folder (tools/gpu-bundle.sh packs the part it needs)")
    sys.path.insert(0, tools)
    return tools


def export(torch, net, path, shape, in_name, out_name, dynamic=False):
    """ONNX opset 12 through the TorchScript exporter, as gen_models.py does."""
    x = torch.zeros(shape)
    kw = dict(opset_version=12, input_names=[in_name], output_names=[out_name],
              do_constant_folding=True, export_params=True)
    if dynamic:
        kw["dynamic_axes"] = {in_name: {0: "batch"}, out_name: {0: "batch"}}
    try:
        torch.onnx.export(net, x, path, dynamo=False, **kw)
    except TypeError:  # torch without the dynamo switch: the TorchScript exporter is the default
        torch.onnx.export(net, x, path, **kw)
    except Exception as e:  # a torch without the TorchScript exporter: the dynamo one
        print(f"bench.py: TorchScript export failed ({e}); using the dynamo exporter", flush=True)
        kw["opset_version"] = 17
        torch.onnx.export(net, (x,), path, dynamo=True, external_data=False, **kw)
    # vigil reads opsets up to 17 (docs/ONNX.md): the dynamo exporter may write 18+.
    import onnx
    m = onnx.load(path)
    ver = max((o.version for o in m.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if ver > 17:
        from onnx import version_converter
        print(f"bench.py: {os.path.basename(path)} has opset {ver}; converting to 17", flush=True)
        onnx.save(version_converter.convert_version(m, 17), path)


def max_err(np, got, ref, groups, slack_frac):
    """The metric of tests/onnx/onnx_ref_test.c: per column group, |d| less slack_frac of
    the group's reference range, relative to 1 + |ref| where the group says so."""
    out = {}
    for gname, c0, c1, rel in groups:
        g = got[..., c0:c1].astype(np.float64)
        r = ref[..., c0:c1].astype(np.float64)
        d = np.abs(g - r)
        raw = float(np.nanmax(d)) if d.size else 0.0
        d = np.maximum(d - slack_frac * float(r.max() - r.min()), 0.0)
        if rel:
            d = d / (1 + np.abs(r))
        out[gname] = {"max_raw": raw, "range": float(r.max() - r.min()),
                      "metric": float(np.nanmax(d)) if not np.isnan(d).any() else float("inf")}
    return out


def fp16_error(torch, np, net, name, x, ref, report):
    """PyTorch's own fp32 and fp16 (autocast, channels_last) error on the reference model
    and input, by the test's metric against the same ONNX Runtime output: the yardstick
    for the fp16 tolerance of the gpu_onnx_fp16 test (docs/GPU.md)."""
    if not torch.cuda.is_available():
        return
    import copy
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    g = channels_last(torch, copy.deepcopy(net).cuda().eval())
    xt = torch.from_numpy(x).cuda().contiguous(memory_format=torch.channels_last)
    if name.startswith("yolo"):
        groups = [("boxes", 0, 4, True), ("obj_class", 4, 85, False)]
    else:
        groups = [("heatmaps", 0, None, False)]
        ref = ref.reshape(-1, 1)
    res = {}
    with torch.inference_mode():
        for prec in ("fp32", "fp16"):
            with torch.autocast("cuda", dtype=torch.float16, enabled=prec == "fp16"):
                y = g(xt)
            y = y.float().cpu().numpy()
            if not name.startswith("yolo"):
                y = y.reshape(-1, 1)
            res[prec] = {"slack_0": max_err(np, y, ref, groups, 0.0),
                         "slack_3pct": max_err(np, y, ref, groups, 0.03)}
    report[name] = res
    print(f"bench.py models: PyTorch error vs ONNX Runtime on {name}: {json.dumps(res)}",
          flush=True)
    del g


def channels_last(torch, net):
    """Module.to(memory_format=...) refuses YOLOv7's 5-D anchor buffers: the 4-D
    parameters and buffers (the convolutions' weights) go channels-last one by one."""
    for t in list(net.parameters()) + list(net.buffers()):
        if t.dim() == 4:
            t.data = t.data.contiguous(memory_format=torch.channels_last)
    return net


def build_net(torch, np, name, sets):
    """The generator's module with its fixed-seed weights, BatchNorm folded (models.calibrate
    on the same calibration batch as gen_models.py, on the CPU: the generator makes some
    of its tensors there)."""
    import gen_models
    import models

    ctor, iset, _, _, _ = gen_models.MODELS[name]
    calib = torch.from_numpy(np.concatenate([sets[iset]["real"], sets[iset]["random"]], 0))
    return models.calibrate(ctor(), calib)


def cmd_models(args):
    shared_tools()
    import numpy as np
    import torch

    import gen_models

    torch.set_num_threads(min(16, os.cpu_count() or 1))
    t0 = time.time()
    tmp = os.path.join(args.out, "inputs-work")
    sets = gen_models.make_inputs(tmp)
    onnx_dir = os.path.join(args.out, "onnx")
    bench_dir = os.path.join(args.out, "bench")
    os.makedirs(onnx_dir, exist_ok=True)
    os.makedirs(bench_dir, exist_ok=True)
    import onnxruntime as ort

    def ort_run(path, in_name, x):
        s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        return s.run(None, {in_name: x})[0]

    def save(path, arr):
        np.ascontiguousarray(arr, dtype="<f4").tofile(path)

    report = {}
    wanted = args.only.split(",")
    for name in wanted:
        ctor, iset, shape, in_name, out_name = gen_models.MODELS[name]
        t1 = time.time()
        net = build_net(torch, np, name, sets)
        if name in ("yolov7-tiny", "hrnet-mini-w8"):
            # the ../shared/onnx reference set: real-image input, ONNX Runtime CPU output
            p = os.path.join(onnx_dir, f"{name}.onnx")
            export(torch, net, p, shape, in_name, out_name)
            x = sets[iset]["real"]
            save(os.path.join(onnx_dir, f"{name}.input.bin"), x)
            save(os.path.join(onnx_dir, f"{name}.output.bin"), ort_run(p, in_name, x))
            fp16_error(torch, np, net, name, x, ort_run(p, in_name, x), report)
            if name == "hrnet-mini-w8":
                pd = os.path.join(onnx_dir, f"{name}-dynbatch.onnx")
                export(torch, net, pd, shape, in_name, out_name, dynamic=True)
                x2 = sets["hrnet256x192_flip2"]
                save(os.path.join(onnx_dir, f"{name}-dynbatch.flip2.input.bin"), x2)
                save(os.path.join(onnx_dir, f"{name}-dynbatch.flip2.output.bin"),
                     ort_run(pd, in_name, x2))
        else:
            # the PyTorch side of `run` rebuilds the module (it does not pickle)
            dyn = name.startswith("hrnet")
            p = os.path.join(bench_dir, f"{name}{'-dynbatch' if dyn else ''}.onnx")
            export(torch, net, p, shape, in_name, out_name, dynamic=dyn)
        print(f"bench.py models: {name} in {time.time() - t1:.1f} s", flush=True)
    if report:
        with open(os.path.join(onnx_dir, "torch-fp16-error.json"), "w") as f:
            json.dump(report, f, indent=1)
    print(f"bench.py models: done in {time.time() - t0:.1f} s (torch {torch.__version__}, "
          f"onnxruntime {ort.__version__})", flush=True)
    return 0


def torch_time(torch, net, shape, fp16, runs, warmup):
    dev = torch.device("cuda")
    x_host = torch.randn(shape).pin_memory()
    x_dev = x_host.to(dev).contiguous(memory_format=torch.channels_last)

    def once(host):
        x = x_host.to(dev, non_blocking=True).contiguous(memory_format=torch.channels_last) \
            if host else x_dev
        with torch.autocast("cuda", dtype=torch.float16, enabled=fp16):
            y = net(x)
        if host:
            y = y.float().cpu()
        torch.cuda.synchronize()
        return y

    out = {}
    with torch.inference_mode():
        for host in (True, False):
            for _ in range(warmup):
                once(host)
            ts = []
            for _ in range(runs):
                t0 = time.perf_counter()
                once(host)
                ts.append((time.perf_counter() - t0) * 1e3)
            ts.sort()
            out["torch_ms" if host else "torch_device_ms"] = ts[len(ts) // 2]
    return out


def vigil_time(args, model, shape, in_name, precision, runs, warmup):
    shp = "x".join(str(d) for d in shape)
    if args.vigil:
        cmd = [args.vigil, "bench", "model", model, "--backend", "cuda", "--device", "cuda:0",
               "--precision", precision, "--shape", f"{in_name}={shp}", "--runs", str(runs),
               "--warmup", str(warmup), "--json"]
    else:
        cmd = [args.vigil_bench, "--model", model, "--device", "cuda:0", "--precision",
               precision, "--shape", shp, "--runs", str(runs), "--warmup", str(warmup)]
    try:
        env = dict(os.environ)
        if os.environ.get("VIGIL_LD_LIBRARY_PATH"):  # tools/gpu-check.sh: vigil's libraries
            env["LD_LIBRARY_PATH"] = os.environ["VIGIL_LD_LIBRARY_PATH"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"vigil_error": f"no result within {args.timeout} s"}
    lines = (r.stderr or r.stdout).strip().splitlines()
    if r.returncode != 0:
        return {"vigil_error": lines[-1] if lines else f"exit status {r.returncode}"}
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
        return {"vigil_ms": j["median_ms"], "vigil_backend": j.get("backend")}
    except (ValueError, IndexError, KeyError) as e:
        return {"vigil_error": f"unreadable result ({e}): {r.stdout[-200:]}"}


def write_results(args, meta, rows):
    """Writes the table (Markdown) and the JSON; returns the table. Called after
    every row too, so that a run stopped by a time limit leaves what it measured."""
    lines = [f"GPU: {meta['gpu']}; PyTorch {meta.get('torch', '?')} (CUDA {meta.get('cuda', '?')}, "
             f"cuDNN {meta.get('cudnn', '?')}); median of {args.runs} runs after {args.warmup} "
             "warm-up" + (" (partial)" if meta.get("partial") else ""),
             "",
             "| model | batch | precision | vigil ms | vigil /s | PyTorch ms | PyTorch /s "
             "| PyTorch GPU-only ms | vigil / PyTorch |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        v_ms = f"{r['vigil_ms']:.2f}" if "vigil_ms" in r else "failed"
        v_s = f"{r['vigil_per_s']:.0f}" if "vigil_per_s" in r else "-"
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "-"
        lines.append(f"| {r['model']} | {r['batch']} | {r['precision']} | {v_ms} | {v_s} "
                     f"{r['unit']} | {r['torch_ms']:.2f} | {r['torch_per_s']:.0f} | "
                     f"{r['torch_device_ms']:.2f} | {ratio} |")
    for r in rows:
        if "vigil_error" in r:
            lines.append(f"\nvigil failed on {r['model']} batch {r['batch']} {r['precision']}: "
                         f"{r['vigil_error']}")
    text = "\n".join(lines) + "\n"
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    return text


def cmd_run(args):
    shared_tools()
    import torch

    import numpy as np

    import gen_models

    torch.backends.cudnn.benchmark = True
    if not torch.cuda.is_available():
        sys.exit("bench.py run: PyTorch sees no CUDA device")
    gpu = torch.cuda.get_device_name(0)
    cases = [("hrnet-w32", "hrnet-w32-dynbatch.onnx", "input", (b, 3, 256, 192), "poses/s")
             for b in HRNET_BATCHES]
    cases.append(("yolov7", "yolov7.onnx", "images", (1, 3, 640, 640), "frames/s"))
    rows = []
    nets = {}
    sets = gen_models.make_inputs(os.path.join(args.models, "inputs-work"))
    for name, onnx, in_name, shape, unit in cases:
        if name not in nets:
            # rebuilt as `models` built the ONNX file: the same weights
            nets[name] = channels_last(torch, build_net(torch, np, name, sets).cuda().eval())
        for precision in ("fp32", "fp16"):
            row = {"model": name, "batch": shape[0], "precision": precision, "unit": unit}
            row.update(vigil_time(args, os.path.join(args.models, onnx), shape, in_name,
                                  precision, args.runs, args.warmup))
            row.update(torch_time(torch, nets[name], shape, precision == "fp16", args.runs,
                                  args.warmup))
            b = shape[0]
            row["torch_per_s"] = b * 1e3 / row["torch_ms"]
            if "vigil_ms" in row:
                row["vigil_per_s"] = b * 1e3 / row["vigil_ms"]
                row["ratio"] = row["vigil_per_s"] / row["torch_per_s"]
            rows.append(row)
            print(json.dumps(row), flush=True)
            write_results(args, {"gpu": gpu, "partial": True}, rows)
    meta = {"gpu": gpu, "torch": torch.__version__, "cudnn": torch.backends.cudnn.version(),
            "cuda": torch.version.cuda, "runs": args.runs, "warmup": args.warmup,
            "tf32_conv": torch.backends.cudnn.allow_tf32,
            "timing": "median wall ms per inference, host input in, host output out"}
    text = write_results(args, meta, rows)
    print(text)
    fails = [r for r in rows if "vigil_error" in r]
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("models")
    m.add_argument("--out", required=True)
    m.add_argument("--only", default="yolov7-tiny,hrnet-mini-w8,hrnet-w32,yolov7")
    r = sub.add_parser("run")
    r.add_argument("--models", required=True)
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--vigil", help="the vigil CLI")
    g.add_argument("--vigil-bench", help="vigil_gpu_bench (builds without the CLI)")
    r.add_argument("--runs", type=int, default=30)
    r.add_argument("--warmup", type=int, default=10)
    r.add_argument("--timeout", type=int, default=180)
    r.add_argument("--json")
    r.add_argument("--markdown")
    args = ap.parse_args()
    return cmd_models(args) if args.cmd == "models" else cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
