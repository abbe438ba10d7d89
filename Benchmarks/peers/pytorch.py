"""PyTorch as a peer of `bench`: the same measures on the same models, printed as the same JSON rows.

    python Benchmarks/peers/pytorch.py [--threads N] [--quick] [--filter NAME] > pytorch.jsonl
    swift run -c release bench --json > tape.jsonl
    python Benchmarks/peers/pytorch.py --compare tape.jsonl pytorch.jsonl   # markdown table, ratio per row
    python Benchmarks/peers/pytorch.py --interleave .build/release/bench --rounds 3 > rounds.jsonl
    python Benchmarks/peers/pytorch.py --compare rounds.jsonl rounds.jsonl  # medians over rounds, ratio range

Needs `pip install torch safetensors` (safetensors only because the model definitions are imported
from the golden-fixture script, Tests/ModelsTests/Fixtures/make_model_fixtures.py, so there is one
PyTorch definition of each model). `swift test` never runs this.

Every measure runs in both memory layouts (NCHW contiguous and channels_last) at each thread
count; a row's "layout" field says which, and `--compare` takes PyTorch's faster layout per row.
Timing as in bench: a few warm-up calls, then at least 5 timed repetitions (and at least ~1 s);
median and min seconds. FLOPs are counted the same way as bench: 2 × multiply-adds of every
convolution and linear layer in the forward pass, × 3 for a training step (forward, backward-data,
backward-weight). The peak-RSS row (bench's `peak-rss-mnist-resnet-train-b256`) trains the seed
ResNet in a fresh process per layout and reads VmHWM, with the resident set before training
(torch and the model loaded) beside it; `--compare` prints those in a table of their own.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "Tests", "ModelsTests", "Fixtures", "make_model_fixtures.py")


def reference_models():
    """The fixture script as a module: MNISTResNet, CIFARResNet and BasicBlock."""
    spec = importlib.util.spec_from_file_location("make_model_fixtures", FIXTURES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mnist_resnet(models):
    return models.MNISTResNet(16, 3, 25)


def cifar_resnet(models, depth):
    n = (depth - 2) // 6
    return models.CIFARResNet(models.BasicBlock, [n, n, n])


def forward_flops(model, shape):
    """2 × multiply-adds of every Conv2d and Linear in one forward pass on `shape`."""
    total = [0.0]

    def conv_hook(module, _, output):
        total[0] += 2.0 * output.numel() * (module.weight.numel() // module.weight.shape[0])

    def linear_hook(module, _, output):
        total[0] += 2.0 * output.numel() * module.weight.shape[1]

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    with torch.no_grad():
        model.eval()
        model(torch.zeros(shape))
        model.train()
    for handle in handles:
        handle.remove()
    return total[0]


def timed(call, quick):
    """Median and min seconds of `call` after warm-up: ≥ 5 repetitions and ≥ ~1 s (quick: 3, no minimum)."""
    for _ in range(1 if quick else 3):
        call()
    times = []
    budget = 0.0 if quick else 1.0
    start = time.perf_counter()
    while len(times) < (3 if quick else 5) or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if len(times) >= 200:
            break
    return statistics.median(times), min(times)


def layouts(tensor, model=None):
    yield "nchw", tensor.contiguous(), model
    if tensor.dim() == 4:
        if model is not None:
            model = model.to(memory_format=torch.channels_last)
        yield "channels_last", tensor.contiguous(memory_format=torch.channels_last), model


def model_measures(models, quick):
    seed_batch, cifar_batch = (8, 8) if quick else (64, 128)
    torch.manual_seed(3)

    def train_step(name, make, shape):
        def measure():
            for layout in ("nchw", "channels_last"):
                model = make()
                images = torch.randn(shape)
                if layout == "channels_last":
                    model = model.to(memory_format=torch.channels_last)
                    images = images.contiguous(memory_format=torch.channels_last)
                labels = torch.arange(shape[0]) % 10
                optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
                model.train()

                def step():
                    loss = F.cross_entropy(model(images), labels)
                    optimizer.zero_grad(set_to_none=False)
                    loss.backward()
                    optimizer.step()

                yield layout, step
        return name, 3 * forward_flops(make(), shape), ("images", shape[0]), measure

    def inference(name, make, shape):
        def measure():
            for layout in ("nchw", "channels_last"):
                model = make().eval()
                images = torch.zeros(shape)
                if layout == "channels_last":
                    model = model.to(memory_format=torch.channels_last)
                    images = images.contiguous(memory_format=torch.channels_last)

                def run():
                    with torch.no_grad():
                        model(images)

                yield layout, run
        return name, forward_flops(make(), shape), ("images", shape[0]), measure

    result = [
        train_step(f"train-step-mnist-resnet-b{seed_batch}", lambda: mnist_resnet(models), (seed_batch, 1, 28, 28)),
        train_step(f"train-step-resnet20-b{cifar_batch}", lambda: cifar_resnet(models, 20), (cifar_batch, 3, 32, 32)),
        inference(f"inference-mnist-resnet-b{seed_batch}", lambda: mnist_resnet(models), (seed_batch, 1, 28, 28)),
    ]
    if not quick:
        for depth in (56, 110):
            result.append(train_step(f"train-step-resnet{depth}-b{cifar_batch}", lambda d=depth: cifar_resnet(models, d),
                                     (cifar_batch, 3, 32, 32)))
        for depth in (20, 56, 110):
            for batch in (1, 8, 64):
                result.append(inference(f"inference-resnet{depth}-b{batch}", lambda d=depth: cifar_resnet(models, d),
                                        (batch, 3, 32, 32)))
    return result


def convolution_measures(quick):
    """bench's ConvolutionSuite: (label, input shape, output channels, kernel, stride), padding (kernel − 1) / 2."""
    batch, cifar_batch = (8, 8) if quick else (64, 128)
    shapes = [("seed", (batch, 16, 28, 28), 16, 3, 1), ("r20-s1", (cifar_batch, 16, 32, 32), 16, 3, 1),
              ("r20-s2", (cifar_batch, 32, 16, 16), 32, 3, 1), ("r20-s3", (cifar_batch, 64, 8, 8), 64, 3, 1),
              ("r20-down2", (cifar_batch, 16, 32, 32), 32, 3, 2), ("r20-down3", (cifar_batch, 32, 16, 16), 64, 3, 2),
              ("proj2", (cifar_batch, 16, 32, 32), 32, 1, 2), ("proj3", (cifar_batch, 32, 16, 16), 64, 1, 2)]
    result = []
    for label, shape, outputs, kernel, stride in shapes:
        padding = (kernel - 1) // 2
        weight_shape = (outputs, shape[1], kernel, kernel)
        output_shape = (shape[0], outputs, (shape[2] + 2 * padding - kernel) // stride + 1,
                        (shape[3] + 2 * padding - kernel) // stride + 1)
        flops = 2.0 * output_shape[0] * outputs * output_shape[2] * output_shape[3] * shape[1] * kernel * kernel

        def make(kind, shape=shape, weight_shape=weight_shape, output_shape=output_shape, stride=stride, padding=padding):
            def measure():
                torch.manual_seed(1)
                x, w, dy = torch.randn(shape), torch.randn(weight_shape), torch.randn(output_shape)
                for layout in ("nchw", "channels_last"):
                    memory = torch.contiguous_format if layout == "nchw" else torch.channels_last
                    xl, wl, dyl = (t.contiguous(memory_format=memory) for t in (x, w, dy))
                    if kind == "fwd":
                        yield layout, lambda: F.conv2d(xl, wl, stride=stride, padding=padding)
                    else:
                        mask = [kind == "bwd-data", kind == "bwd-weight", False]
                        yield layout, lambda: torch.ops.aten.convolution_backward(
                            dyl, xl, wl, None, [stride, stride], [padding, padding], [1, 1], False, [0, 0], 1, mask)
            return measure

        dims = "x".join(str(d) for d in shape)
        result += [(f"conv-fwd-{label}-{dims}", flops, None, make("fwd")),
                   (f"conv-bwd-data-{label}", flops, None, make("bwd-data")),
                   (f"conv-bwd-weight-{label}", flops, None, make("bwd-weight"))]
    return result


def tape_measures(quick):
    shape = (8 if quick else 64, 16, 28, 28)
    chain = 1_000 if quick else 10_000

    def batchnorm():
        torch.manual_seed(2)
        x, dy = torch.randn(shape), torch.randn(shape)
        for layout in ("nchw", "channels_last"):
            memory = torch.contiguous_format if layout == "nchw" else torch.channels_last
            bn = nn.BatchNorm2d(16).train()
            xl, dyl = x.contiguous(memory_format=memory), dy.contiguous(memory_format=memory)

            def run():
                inp = xl.detach().requires_grad_(True)
                bn(inp).backward(dyl)

            yield layout, run

    def tape_chain():
        start = torch.tensor([1.0, 2.0, 3.0, 4.0])

        def run():
            x = start.clone().requires_grad_(True)
            y = x
            for _ in range(chain):
                y = y * 1.0001
            y.sum().backward()

        yield "nchw", run

    return [(f"batchnorm-fwd-bwd-{'x'.join(str(d) for d in shape)}", 0.0, None, batchnorm, "threads"),
            (f"tape-chain-{chain}-ops-fwd-bwd", 0.0, ("ops", chain), tape_chain, 1)]


def resident_bytes(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in bytes; 0 where there is no /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss_child(batch, layout, steps):
    """Run in a fresh process: seed-ResNet training steps at `batch` (SGD with momentum, as bench's
    measure), then print the process's peak resident set and its resident set before training
    (torch and the model loaded) as JSON."""
    torch.set_num_threads(os.cpu_count() or 1)
    model = mnist_resnet(reference_models())
    memory = torch.contiguous_format if layout == "nchw" else torch.channels_last
    model = model.to(memory_format=memory).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.zeros(batch, 1, 28, 28).contiguous(memory_format=memory)
    labels = torch.arange(batch) % 10
    baseline = resident_bytes("VmRSS")
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        optimizer.step()
    print(json.dumps({"peak_rss_bytes": resident_bytes("VmHWM"), "baseline_rss_bytes": baseline}))


def peak_rss_rows(arguments):
    """bench's peak-RSS measure (no checkpointing), each layout in a fresh process."""
    batch = 32 if arguments.quick else 256
    name = f"peak-rss-mnist-resnet-train-b{batch}"
    if arguments.filter and arguments.filter not in name:
        return
    for layout in ("nchw", "channels_last"):
        command = [sys.executable, os.path.abspath(__file__), "--peak-rss-child", str(batch), layout,
                   "1" if arguments.quick else "3"]
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode != 0:
            sys.exit(f"pytorch.py: the peak-RSS run failed ({finished.returncode}): {finished.stderr.strip()}")
        measured = json.loads(finished.stdout.strip().splitlines()[-1])
        yield dict({"name": name, "threads": os.cpu_count() or 1, "kernels": f"pytorch-{torch.__version__}",
                    "layout": layout}, **measured)


def measure_rows(arguments):
    """PyTorch's rows for the measures `arguments` select, one dict per measure, thread count and layout."""
    models = reference_models()
    thread_counts = [arguments.threads] if arguments.threads else sorted({1, os.cpu_count() or 1})
    measures = [m + ("threads",) for m in convolution_measures(arguments.quick) + model_measures(models, arguments.quick)]
    measures += tape_measures(arguments.quick)
    kernels = f"pytorch-{torch.__version__}"
    for name, flops, items, measure, threads_spec in measures:
        if arguments.filter and arguments.filter not in name:
            continue
        for threads in (thread_counts if threads_spec == "threads" else [threads_spec]):
            torch.set_num_threads(threads)
            for layout, call in measure():
                median, minimum = timed(call, arguments.quick)
                row = {"name": name, "threads": threads, "kernels": kernels, "layout": layout, "median_s": median,
                       "min_s": minimum, "gflops": flops / median / 1e9 if flops > 0 else None, "peak_fraction": None}
                if items is not None:
                    row[f"{items[0]}_per_second"] = items[1] / median
                yield row
    yield from peak_rss_rows(arguments)


def run(arguments):
    for row in measure_rows(arguments):
        print(json.dumps(row), flush=True)


def interleave(arguments):
    """Rounds of `bench` (a subprocess) and PyTorch in turn on the same measures, every row tagged
    with its round: the machine's drift between minutes hits both alike."""
    command = [arguments.interleave, "--json"]
    if arguments.filter:
        command += ["--filter", arguments.filter]
    if arguments.threads:
        command += ["--threads", str(arguments.threads)]
    if arguments.quick:
        command.append("--quick")
    for round_index in range(arguments.rounds):
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode != 0:
            sys.exit(f"pytorch.py: {' '.join(command)} failed ({finished.returncode}): {finished.stderr.strip()}")
        for line in finished.stdout.splitlines():
            if line.strip().startswith("{"):
                print(json.dumps(dict(json.loads(line), round=round_index)), flush=True)
        for row in measure_rows(arguments):
            print(json.dumps(dict(row, round=round_index)), flush=True)


def compare(tape_path, peer_path):
    """A markdown table: each Tape row beside PyTorch's faster layout for the same name and threads.
    With rounds (from --interleave), per round the ratio of the two medians, then the median over
    rounds of each column and of the ratios, and the ratios' range. Both paths may be one file."""
    def rows(path, peer):
        with open(path) as file:
            found = [json.loads(line) for line in file if line.strip().startswith("{")]
        return [row for row in found if row.get("kernels", "").startswith("pytorch-") == peer]

    best = {}
    for row in rows(peer_path, True):
        if "median_s" not in row:
            continue
        key = (row["name"], row["threads"], row.get("round", 0))
        if key not in best or row["median_s"] < best[key]["median_s"]:
            best[key] = row
    tape = {}
    for row in rows(tape_path, False):
        if (row["name"], row["threads"], row.get("round", 0)) in best and "median_s" in row:
            tape.setdefault((row["name"], row["threads"]), []).append(row)
    rounds = max((len(found) for found in tape.values()), default=0)
    if not tape:
        compare_memory(rows(tape_path, False), rows(peer_path, True))
        return
    print("| measure | threads | Tape median s | % peak | PyTorch median s (layout) | Tape / PyTorch |"
          + (f" ratio range, {rounds} rounds |" if rounds > 1 else ""))
    print("|---|---|---|---|---|---|" + ("---|" if rounds > 1 else ""))
    for (name, threads), found in tape.items():
        peers = [best[(name, threads, row.get("round", 0))] for row in found]
        ratios = [row["median_s"] / peer["median_s"] for row, peer in zip(found, peers)]
        fractions = [row["peak_fraction"] for row in found if row.get("peak_fraction") is not None]
        layouts = sorted({peer["layout"] for peer in peers})
        line = (f"| {name} | {threads} | {statistics.median(row['median_s'] for row in found):.4g} | "
                f"{f'{100 * statistics.median(fractions):.0f}%' if fractions else ''} | "
                f"{statistics.median(peer['median_s'] for peer in peers):.4g} ({', '.join(layouts)}) | "
                f"{statistics.median(ratios):.2f}× |")
        if rounds > 1:
            line += f" {min(ratios):.2f}–{max(ratios):.2f}× |"
        print(line)
    compare_memory(rows(tape_path, False), rows(peer_path, True))


def compare_memory(tape_rows, peer_rows):
    """Peak resident sets: Tape's beside PyTorch's smaller layout, medians over rounds (GiB)."""
    gib = 1 << 30
    peers = {}
    for row in peer_rows:
        if "peak_rss_bytes" in row:
            peers.setdefault(row["name"], []).append(row)
    lines = []
    for name, found in peers.items():
        tape = [row["peak_rss_bytes"] for row in tape_rows if row["name"] == name and "peak_rss_bytes" in row]
        if not tape:
            continue
        best = {}
        for row in found:
            key = row.get("round", 0)
            if key not in best or row["peak_rss_bytes"] < best[key]["peak_rss_bytes"]:
                best[key] = row
        peak = statistics.median(row["peak_rss_bytes"] for row in best.values())
        baseline = statistics.median(row["baseline_rss_bytes"] for row in best.values())
        layouts = sorted({row["layout"] for row in best.values()})
        lines.append(f"| {name} | {statistics.median(tape) / gib:.2f} GiB | {peak / gib:.2f} GiB ({', '.join(layouts)}; "
                     f"{baseline / gib:.2f} GiB before training) | {statistics.median(tape) / peak:.2f}× |")
    if lines:
        print("\n| measure | Tape peak RSS | PyTorch peak RSS | Tape / PyTorch |\n|---|---|---|---|")
        print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, help="only this thread count (default: 1 and all CPUs)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions")
    parser.add_argument("--filter", help="only measures whose name contains this")
    parser.add_argument("--compare", nargs=2, metavar=("TAPE_JSONL", "PYTORCH_JSONL"),
                        help="print a markdown table of the two runs instead of measuring (one file twice for --interleave's)")
    parser.add_argument("--interleave", metavar="BENCH",
                        help="run this bench binary and PyTorch in turn, --rounds times, printing both's rows tagged by round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds for --interleave (default 3)")
    parser.add_argument("--peak-rss-child", nargs=3, metavar=("BATCH", "LAYOUT", "STEPS"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.peak_rss_child:
        batch, layout, steps = arguments.peak_rss_child
        return peak_rss_child(int(batch), layout, int(steps))
    if arguments.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {arguments.rounds}")
    if arguments.compare:
        compare(*arguments.compare)
    elif arguments.interleave:
        interleave(arguments)
    else:
        run(arguments)


if __name__ == "__main__":
    sys.exit(main())
