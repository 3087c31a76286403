#!/usr/bin/env python3
"""The two-layer step and the MLP epoch of the C++ benchmarks, in PyTorch.

  bench/bench_pytorch.py [--reference=DIR] [--sizes=S,M,L] [--examples=N] [--no-mlp]
                         [--benchmark_repetitions=N] [--benchmark_min_time=SECONDS]
                         [--benchmark_out=FILE]

DIR (default build/bench-reference) is written by
`build/bench/write_reference DIR`: the two-layer problems' data and initial
weights as .npy (bench/two_layer_step.hpp draws them with <random>, which
numpy cannot replay), the MLP's initial weights, and xgrad's cost after five
steps of each problem and losses of the MLP's first batches. The MLP's data
are drawn here as bench/mlp.hpp draws them (xg::Rng is numpy's RandomState).
Before timing anything, the script checks that its costs and losses are
xgrad's (relative tolerance 1e-9 in float64, 1e-6 in float32: see TOLERANCE)
and stops with status 1 when they are not.

Timing: per benchmark, `repetitions` medians-to-be, each the mean time of as
many steps (epochs) as fill `min_time`; the output is Google Benchmark's JSON
(aggregate "median") under the names step/<size>/<type>/pytorch and
mlp/<type>/pytorch, which bench/report reads beside the C++ programs' output.
"""
import json
import math
import os
import platform
import statistics
import sys
import time

# OpenMP threads of torch's CPU kernels sleep when idle instead of spinning.
# On this benchmark's machine (2 cores, shared with OpenBLAS's threads and
# other processes) spinning workers steal the cores the next op needs, and
# the passive policy is the faster setting for torch. It must be set before
# torch (libgomp) is loaded; bench/run sets it for the LibTorch program too.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numpy as np  # noqa: E402
import torch  # noqa: E402

SIZES = ("S", "M", "L")
TYPES = {"float64": (torch.float64, np.float64), "float32": (torch.float32, np.float32)}
# Relative tolerances on the costs (losses): agreement to the digits printed
# (10 decimals in float64; in float32, whose costs differ in the 7th digit
# with the order of a sum, to 6 significant digits, the report's). PyTorch's
# costs and losses agree with xgrad's to all 10 printed decimals in float64
# and within about 1e-7 relative in float32; a wrong step differs in the
# first digits.
TOLERANCE = {"float64": 1e-9, "float32": 1e-6}

# bench/mlp.hpp
MLP_SIZES = (784, 256, 128, 10)
BATCH = 128
EXAMPLES = 60000
LEARNING_RATE = 0.001
DATA_SEED, LABEL_SEED, SHUFFLE_SEED = 1, 2, 4
CHECK_BATCHES = 5
LEARNING_RATE_TWO_LAYER = 0.5  # bench::Problem::learning_rate


def parse(argv):
    opts = {"reference": "build/bench-reference", "sizes": "S,M,L", "examples": EXAMPLES, "mlp": True,
            "repetitions": 9, "min_time": None, "out": None}
    for a in argv:
        key, _, value = a.partition("=")
        if key == "--reference":
            opts["reference"] = value
        elif key == "--sizes":
            opts["sizes"] = value
        elif key == "--examples":
            opts["examples"] = int(value)
        elif key == "--no-mlp":
            opts["mlp"] = False
        elif key == "--benchmark_repetitions":
            opts["repetitions"] = int(value)
        elif key == "--benchmark_min_time":
            opts["min_time"] = float(value.rstrip("s"))
        elif key == "--benchmark_out":
            opts["out"] = value
        elif key.startswith("--benchmark_"):
            pass  # other Google Benchmark flags (format, interleaving, aggregates) do not apply
        else:
            sys.exit(f"bench_pytorch.py: unknown argument {a!r}\n{__doc__}")
    if opts["examples"] < BATCH:
        sys.exit(f"bench_pytorch.py: --examples must be at least one batch ({BATCH})")
    return opts


def load(path, dtype):
    return torch.from_numpy(np.load(path)).to(dtype)


class TwoLayerStep:
    """Z1 = W1·X + b1, A1 = tanh, Z2 = W2·A1 + b2, J = BCE from the logits
    (summed, divided by m), autograd backward, in-place gradient descent:
    bench_libtorch.cpp's TorchStep."""

    def __init__(self, directory, dtype):
        f = lambda name: load(os.path.join(directory, name + ".npy"), dtype)  # noqa: E731
        self.X, self.Y = f("X"), f("Y")
        self.params = [f(n).requires_grad_() for n in ("W1", "b1", "W2", "b2")]
        self.m = float(self.X.shape[1])

    def step(self):
        W1, b1, W2, b2 = self.params
        A1 = torch.tanh(torch.addmm(b1, W1, self.X))
        Z2 = torch.addmm(b2, W2, A1)
        J = torch.nn.functional.binary_cross_entropy_with_logits(Z2, self.Y, reduction="sum") / self.m
        for p in self.params:
            p.grad = None
        J.backward()
        with torch.no_grad():
            for p in self.params:
                p.sub_(p.grad, alpha=LEARNING_RATE_TWO_LAYER)
        return J.item()


def mlp_data(m):
    """bench::mlp::Data: example after example from RandomState(1).randn, labels ⌊10 u⌋."""
    X = np.random.RandomState(DATA_SEED).randn(m, MLP_SIZES[0])  # one example per row
    y = np.floor(10.0 * np.random.RandomState(LABEL_SEED).rand(m)).astype(np.int64)
    return X, y


class Mlp:
    """bench_libtorch.cpp's TorchMlp: examples as rows, nn.Linear layers with
    xgrad's initial weights, cross_entropy (mean), optim.Adam; a batch is
    index_select of the epoch's randperm (arange for the check)."""

    def __init__(self, X, y, weights_dir, dtype, shuffle):
        self.X = torch.from_numpy(X).to(dtype)
        self.y = torch.from_numpy(y)
        layers = []
        for i in range(3):
            lin = torch.nn.Linear(MLP_SIZES[i], MLP_SIZES[i + 1]).to(dtype)
            with torch.no_grad():
                lin.weight.copy_(load(os.path.join(weights_dir, f"W{i + 1}.npy"), dtype))
                lin.bias.copy_(load(os.path.join(weights_dir, f"b{i + 1}.npy"), dtype).flatten())
            layers += [lin, torch.nn.ReLU()] if i < 2 else [lin]
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.shuffle = shuffle
        torch.manual_seed(SHUFFLE_SEED)

    def run(self, max_batches=None):
        m = self.X.shape[0]
        order = torch.randperm(m) if self.shuffle else torch.arange(m)
        losses = []
        for start in range(0, m, BATCH):
            if max_batches is not None and len(losses) == max_batches:
                break
            idx = order[start:start + BATCH]
            xb, yb = self.X.index_select(0, idx), self.y.index_select(0, idx)
            loss = torch.nn.functional.cross_entropy(self.model(xb), yb)
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            losses.append(loss.item())
        return losses


def agree(got, want, typ):
    return abs(got - want) <= TOLERANCE[typ] * max(1.0, abs(want))


def timed(fn, min_time, repetitions):
    """Per repetition: the mean time of as many calls as fill min_time (after one warm call)."""
    fn()
    times = []
    for _ in range(repetitions):
        n, elapsed = 0, 0.0
        start = time.perf_counter()
        while elapsed < min_time or n == 0:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
        times.append(elapsed / n)
    return times


def entry(name, times, unit, **counters):
    scale = {"us": 1e6, "ms": 1e3}[unit]
    median = statistics.median(times) * scale
    out = [{"name": f"{name}_median", "run_name": name, "run_type": "aggregate", "aggregate_name": "median",
            "repetitions": len(times), "real_time": median, "cpu_time": median, "time_unit": unit, **counters}]
    if len(times) > 1:
        sd = statistics.stdev(times) * scale
        out.append({"name": f"{name}_cv", "run_name": name, "run_type": "aggregate", "aggregate_name": "cv",
                    "aggregate_unit": "percentage", "repetitions": len(times),
                    "real_time": sd / (statistics.mean(times) * scale), "cpu_time": 0, "time_unit": unit})
    return out


def main():
    opts = parse(sys.argv[1:])
    ref_path = os.path.join(opts["reference"], "reference.json")
    try:
        with open(ref_path, encoding="utf-8") as f:
            reference = json.load(f)
    except OSError as e:
        sys.exit(f"bench_pytorch.py: cannot read {ref_path} ({e.strerror}): "
                 f"run build/bench/write_reference {opts['reference']} first")
    sizes = [s for s in SIZES if s in opts["sizes"].split(",")]

    # Check every problem first: nothing is timed unless all agree with xgrad.
    steps, mlps, ok = {}, {}, True
    for size in sizes:
        for typ, (dtype, _) in TYPES.items():
            key = f"{size}/{typ}"
            if key not in reference["two_layer"]:
                sys.exit(f"bench_pytorch.py: {ref_path} has no size {size}: "
                         f"run build/bench/write_reference {opts['reference']} --sizes={opts['sizes']}")
            directory = os.path.join(opts["reference"], "two_layer", size, typ)
            s = TwoLayerStep(directory, dtype)
            cost = [s.step() for _ in range(5)][-1]
            want = reference["two_layer"][key]
            good = agree(cost, want, typ)
            ok = ok and good
            print(f"{size} {typ} pytorch cost after 5 steps {cost:.10f}  xgrad {want:.10f}"
                  f"{'' if good else '  <-- DIFFERS'}", file=sys.stderr)
            steps[key] = (directory, dtype, want)
    if opts["mlp"]:
        Xc, yc = mlp_data(CHECK_BATCHES * BATCH)
        for typ, (dtype, _) in TYPES.items():
            weights = os.path.join(opts["reference"], "mlp", typ)
            got = Mlp(Xc, yc, weights, dtype, shuffle=False).run(CHECK_BATCHES)
            want = reference["mlp"][typ]
            good = len(got) == len(want) and all(agree(g, w, typ) for g, w in zip(got, want))
            ok = ok and good
            print(f"mlp {typ} pytorch losses of the first {len(got)} batches: "
                  + " ".join(f"{v:.10f}" for v in got) + ("" if good else "  <-- DIFFERS"), file=sys.stderr)
            print(f"mlp {typ} xgrad   losses of the first {len(want)} batches: "
                  + " ".join(f"{v:.10f}" for v in want), file=sys.stderr)
            mlps[typ] = (weights, dtype, want[-1])
    if not ok:
        sys.exit("PyTorch and xgrad disagree: not timing a wrong step")

    benchmarks = []
    reps = opts["repetitions"]
    for key, (directory, dtype, cost) in steps.items():
        size = key.split("/")[0]
        min_time = opts["min_time"] if opts["min_time"] is not None else (1.0 if size == "L" else 0.2)
        s = TwoLayerStep(directory, dtype)
        times = timed(s.step, min_time, reps)
        benchmarks += entry(f"step/{key}/pytorch", times, "us", cost_after_5=cost)
        print(f"step/{key}/pytorch  median {statistics.median(times) * 1e6:.1f} us", file=sys.stderr)
    if opts["mlp"]:
        X, y = mlp_data(opts["examples"])
        for typ, (weights, dtype, loss) in mlps.items():
            trainer = Mlp(X, y, weights, dtype, shuffle=True)
            min_time = opts["min_time"] if opts["min_time"] is not None else 0.1
            times = timed(trainer.run, min_time, reps)
            benchmarks += entry(f"mlp/{typ}/pytorch", times, "ms", loss_check=loss, examples=float(opts["examples"]))
            print(f"mlp/{typ}/pytorch  median {statistics.median(times) * 1e3:.1f} ms per epoch", file=sys.stderr)

    result = {
        "context": {
            "executable": "bench/bench_pytorch.py",
            "num_cpus": os.cpu_count(),
            "library": f"torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}",
            "torch_threads": torch.get_num_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        },
        "benchmarks": benchmarks,
    }
    text = json.dumps(result, indent=2)
    if opts["out"]:
        with open(opts["out"], "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
