"""Throughput of `orderviz.learner.Learner` against a bare PyTorch loop: same tiny model, data, optimiser, one process.

    python bench/learner.py [--steps 300] [--repeats 5] [--threads 1]

Both loops train the same MLP on the same in-memory data with AdamW, in alternating repeats; the Learner runs as in
a real experiment (run folder, `metrics.jsonl` every 10 steps, progress bar, final checkpoint). Prints images/s of
each repeat and the ratio of the medians (Learner / bare); the target is >= 0.95. Throughput is measured twice: by
wall clock, and by this process's CPU time, which a busy shared machine disturbs less.
"""
import argparse, statistics, sys, tempfile, time, shutil
from pathlib import Path
import torch, torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from orderviz.core import Run, seed_everything, num_threads
from orderviz.learner import Learner, TrainConfig

def model_and_data(n:int, bs:int):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, 256, generator=g), torch.randint(0, 10, (n,), generator=g)
    seed_everything(0)
    model = nn.Sequential(nn.Linear(256, 512), nn.GELU(), nn.Linear(512, 512), nn.GELU(), nn.Linear(512, 10))
    return model, DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True, drop_last=True)

class Timer:
    "Wall-clock and process CPU seconds of a `with` block."
    def __enter__(self): self.w, self.c = time.perf_counter(), time.process_time(); return self
    def __exit__(self, *a): self.w, self.c = time.perf_counter() - self.w, time.process_time() - self.c

def bare(steps:int, bs:int, lr:float)->Timer:
    "Time of a plain loop: forward, loss, backward, AdamW step, zero_grad."
    model, dl = model_and_data(steps * bs, bs)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    with Timer() as t:
        for xb, yb in dl:
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    return t

def learner(steps:int, bs:int, lr:float, root:Path, progress:bool)->Timer:
    "Time of `Learner.fit` with records on (run folder, metrics.jsonl, final checkpoint), same optimiser (AdamW, no decay)."
    model, dl = model_and_data(steps * bs, bs)
    run = Run.create('bench_learner', dict(steps=steps), root=root)
    cfg = TrainConfig(epochs=1, lr=lr, schedule='constant', log_every=10, progress=progress)
    learn = Learner(model, dl, nn.functional.cross_entropy, cfg, run=run)
    with Timer() as t: learn.fit()
    assert learn.step == steps
    return t

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=300, help='optimiser steps per timed run')
    ap.add_argument('--bs', type=int, default=128, help='batch size')
    ap.add_argument('--repeats', type=int, default=5, help='timed runs of each loop (alternating)')
    ap.add_argument('--threads', type=int, default=1, help='torch intra-op threads')
    ap.add_argument('--no-progress', action='store_true', help='run the Learner without its progress bar')
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp())
    try:
        with num_threads(a.threads):
            bare(20, a.bs, 1e-3); learner(20, a.bs, 1e-3, root, False)   # warm-up
            b, l = [], []
            n = a.steps * a.bs
            for i in range(a.repeats):
                b.append(bare(a.steps, a.bs, 1e-3)); l.append(learner(a.steps, a.bs, 1e-3, root, not a.no_progress))
                print(f'repeat {i}: wall img/s bare {n / b[-1].w:8.0f} Learner {n / l[-1].w:8.0f} ratio {b[-1].w / l[-1].w:.3f} | '
                      f'CPU-time img/s bare {n / b[-1].c:8.0f} Learner {n / l[-1].c:8.0f} ratio {b[-1].c / l[-1].c:.3f}', file=sys.stderr, flush=True)
    finally: shutil.rmtree(root, ignore_errors=True)
    print(f'model: MLP 256-512-512-10, batch {a.bs}, {a.steps} steps per run, {a.repeats} runs each, {a.threads} thread(s), torch {torch.__version__}')
    for kind in ('w', 'c'):
        mb, ml = n / statistics.median(getattr(t, kind) for t in b), n / statistics.median(getattr(t, kind) for t in l)
        name = 'wall clock' if kind == 'w' else 'CPU time  '
        print(f'{name}: bare loop {mb:8.0f} img/s, Learner {ml:8.0f} img/s (medians); ratio Learner/bare {ml / mb:.3f} (target >= 0.95)')
    from _record import record   # bench/results/learner.json, for the site's Performance page
    med = lambda ts, k: statistics.median(getattr(t, k) for t in ts)
    record(__file__, [dict(what=f'Learner / bare loop throughput ({"wall clock" if k == "w" else "CPU time"})', ratio=med(b, k) / med(l, k),
                           seconds=med(l, k)) for k in ('w', 'c')],
           notes=f'MLP 256-512-512-10, batch {a.bs}, {a.steps} steps per timed run, medians of {a.repeats} runs, {a.threads} thread(s); target >= 0.95')

if __name__ == '__main__': main()
