"""torch_bench.py: the PyTorch half of `make bench`, the twin of lucid_bench.lua
(same workloads, same timing loop, same output; run.lua explains the method).

  /usr/bin/python3 torch_bench.py [--threads=1,2] [--sgd=optim|manual] [workload ...]
      prints "row <workload> <threads> <seconds per iteration> <iterations per batch>"
  /usr/bin/python3 torch_bench.py --memory [--sgd=optim|manual]
      prints "memory <peak RSS in KB> <RSS in KB after import torch>"
  /usr/bin/python3 torch_bench.py --info
      prints "info torch <version>" and "info openblas <openblas_get_config()>"

Threads: torch.set_num_threads(n) sets PyTorch's own pool, but PyTorch calls
OpenBLAS (Debian builds it against libblas.so.3 = OpenBLAS) for matrix products
and leaves OpenBLAS's thread count alone (OpenBLAS then uses every core). So,
like lucid.set_num_threads(n), set_threads(n) also calls openblas_set_num_threads(n).
"""
import ctypes
import sys
import time

import torch
import torch.nn as nn

try:
    OPENBLAS = ctypes.CDLL("libopenblas.so.0")  # the copy torch already loaded
    OPENBLAS.openblas_get_config.restype = ctypes.c_char_p
except OSError:
    OPENBLAS = None


def set_threads(n):
    torch.set_num_threads(n)
    if OPENBLAS is not None:
        OPENBLAS.openblas_set_num_threads(n)


# ---- the timing loop (lucid_bench.lua's measure() is the same) ------------------------
# One thread: CPU time of the process (time.process_time, as os.clock on the Lua
# side); two threads: wall time (time.perf_counter).
BATCH = 0.1   # seconds a timed batch should last
BUDGET = 0.8  # seconds of timed batches per row: 3 to 7 batches


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 == 1 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def measure(step, clock):
    def batch(n):
        t0 = clock()
        for _ in range(n):
            step()
        return max(clock() - t0, 1e-9)

    step()  # first call: lazy set-up, first allocations
    n, t = 1, batch(1)
    while t < BATCH / 2:  # warm-up that finds n
        n *= 2
        t = batch(n)
    per_iter = t / n
    n = max(1, int(BATCH / per_iter + 0.5))
    samples = max(3, min(7, int(BUDGET / (n * per_iter))))
    return median([batch(n) / n for _ in range(samples)]), n


# ---- the workloads -------------------------------------------------------------------
# Each returns the function timed (one iteration) and whether it runs under no_grad.
SGD_MODE = "optim"


def tiny():
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))


def mlp():
    return nn.Sequential(nn.Linear(784, 256), nn.Tanh(), nn.Linear(256, 256), nn.Tanh(),
                         nn.Linear(256, 10))


# 1. Sequential(Linear(4,8), Tanh, Linear(8,2)), batch 1, forward + backward
def tiny_train():
    model, x = tiny(), torch.randn(1, 4)
    return lambda: model(x).sum().backward(), False


# 1. the floor under any forward + backward: one recorded op on a leaf and its backward
def grad_floor():
    x = torch.randn(1, 2, requires_grad=True)
    return lambda: x.sum().backward(), False


# 2. the same, forward only under no_grad (PyTorch has no reuse_buffers: the
#    Lucid row with it is compared with this one)
def tiny_infer():
    model, x = tiny(), torch.randn(1, 4)
    return lambda: model(x), True


# 3. Linear(1024, 1024), batch 64, forward + backward
def linear_train():
    model, x = nn.Linear(1024, 1024), torch.randn(64, 1024)
    return lambda: model(x).sum().backward(), False


# 4. tanh forward + backward on 16M float32 elements
def tanh_big():
    n = 16 * 1024 * 1024
    x, ones = torch.randn(n, requires_grad=True), torch.ones(n)

    def step():
        x.grad = None
        torch.tanh(x).backward(ones)
    return step, False


# 5. MLP 784-256-256-10 with Tanh, batch 64, MSE loss + SGD step
def mlp_train():
    model, x, y = mlp(), torch.randn(64, 784), torch.randn(64, 10)
    loss_fn, lr = nn.MSELoss(), 0.01
    if SGD_MODE == "optim":
        opt = torch.optim.SGD(model.parameters(), lr=lr)

        def step():
            opt.zero_grad(set_to_none=True)  # Lucid's default (PyTorch 2's too)
            loss_fn(model(x), y).backward()
            opt.step()
        return step, False
    params = list(model.parameters())

    def manual_step():
        loss_fn(model(x), y).backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None
    return manual_step, False


# 6. that MLP, inference, batch 1
def mlp_infer():
    model, x = mlp(), torch.randn(1, 784)
    return lambda: model(x), True


# 7. sort of 1M float32 values (values and indices); topk(100) of them
def sort_1m():
    x = torch.randn(1024 * 1024)
    return lambda: torch.sort(x), True


def topk_1m():
    x = torch.randn(1024 * 1024)
    return lambda: torch.topk(x, 100), True


# 8. TransformerEncoderLayer(d_model 128, 4 heads, ff 512, dropout 0), seq 64, batch 8,
# forward + backward
def encoder_layer_train():
    layer, x = nn.TransformerEncoderLayer(128, 4, 512, 0.0), torch.randn(64, 8, 128)
    return lambda: layer(x).sum().backward(), False


# 9. Conv2d(3, 16, 3, padding 1), batch 32, 32x32, forward + backward
def conv2d_train():
    conv = nn.Conv2d(3, 16, 3, padding=1)
    x = torch.randn(32, 3, 32, 32, requires_grad=True)

    def step():
        x.grad = None
        conv(x).sum().backward()
    return step, False


# 10. LSTM(128, 256), seq 32, batch 16, forward + backward
def lstm_train():
    model, x = nn.LSTM(128, 256), torch.randn(32, 16, 128)
    return lambda: model(x)[0].sum().backward(), False


# 11. One char-rnn training step (scripts/charrnn.lua's defaults): Embedding(96, 32),
# LSTM(32, 128, batch_first), Linear(128, 96) over batch 32 x seq 64 token ids,
# cross-entropy over every step, clip_grad_norm_(5), Adam
class CharRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(96, 32)
        self.rnn = nn.LSTM(32, 128, batch_first=True)
        self.head = nn.Linear(128, 96)

    def forward(self, idx):
        return self.head(self.rnn(self.embed(idx))[0])


def charrnn_step():
    model = CharRNN()
    loss_fn, opt = nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=0.003)
    x, y = torch.randint(0, 96, (32, 64)), torch.randint(0, 96, (32 * 64,))

    def step():
        opt.zero_grad()
        loss_fn(model(x).reshape(32 * 64, 96), y).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5)
        opt.step()
    return step, False


# 12. 1000 agents x MLP 32-64-64-8 (Tanh), one batched forward under no_grad: a
# game's per-frame policy for all its agents at once
AGENTS = 1000


def agents_mlp():
    return nn.Sequential(nn.Linear(32, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                         nn.Linear(64, 8))


def agents_infer():
    model, x = agents_mlp(), torch.randn(AGENTS, 32)
    return lambda: model(x), True


# 13. MLP 784-256-256-10, batch 64, forward under no_grad
def mlp64_infer():
    model, x = mlp(), torch.randn(64, 784)
    return lambda: model(x), True


# 14. tanh forward over 16M float32 into a kept output (the memory-bandwidth row)
def tanh_fwd():
    n = 16 * 1024 * 1024
    x, y = torch.randn(n), torch.empty(n)
    return lambda: torch.tanh(x, out=y), True


WORKLOADS = {f.__name__: f for f in
             (tiny_train, grad_floor, tiny_infer, linear_train, tanh_big, mlp_train, mlp_infer, sort_1m,
              topk_1m, encoder_layer_train, conv2d_train, lstm_train, charrnn_step, agents_infer,
              mlp64_infer, tanh_fwd)}


# ---- main ----------------------------------------------------------------------------
def proc_status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def main(args):
    global SGD_MODE
    threads, names, memory = [1, 2], [], False
    for a in args:
        if a.startswith("--threads="):
            threads = [int(t) for t in a.split("=", 1)[1].split(",")]
        elif a.startswith("--sgd="):
            SGD_MODE = a.split("=", 1)[1]
        elif a == "--memory":
            memory = True
        elif a == "--info":
            print("info torch", torch.__version__)
            if OPENBLAS is not None:
                print("info openblas", OPENBLAS.openblas_get_config().decode())
            return
        elif a in WORKLOADS:
            names.append(a)
        else:
            sys.exit("torch_bench.py: unknown argument " + a)
    names = names or list(WORKLOADS)

    if memory:
        base = proc_status_kb("VmRSS")
        set_threads(1)
        torch.manual_seed(0)
        step, _ = mlp_train()
        for _ in range(300):
            step()
        print("memory %d %d" % (proc_status_kb("VmHWM"), base))
        return

    for nt in threads:
        set_threads(nt)
        for name in names:
            torch.manual_seed(0)
            step, no_grad = WORKLOADS[name]()
            with torch.set_grad_enabled(not no_grad):
                t, n = measure(step, time.process_time if nt == 1 else time.perf_counter)
            print("row %s %d %.6e %d" % (name, nt, t, n), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
