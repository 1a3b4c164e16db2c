"""Sampling speed of orderviz's samplers, measured in one run on one machine for the same model and batch.

GPT: KV-cached sampling in per-image random orders against (1) the full-forward reference sampler and
(2) KV-cached raster sampling. The claims checked: any-order KV-cached is at least 10x faster than full forward
passes at 256 tokens, and at least 0.9x the speed of raster KV-cached sampling.

    python bench/sampling.py                      # GPT only (the default)
    python bench/sampling.py --threads 1          # on a busy machine: no thread contention; compare the CPU-time column
    python bench/sampling.py --which all          # GPT, and MAR when bench/sampling_mar.py provides bench_mar()
    python bench/sampling.py --which rescoring    # OrderHead rescoring (static, semifast-8, slow) on GPT and MAR: bench/rescoring.py
"""
from __future__ import annotations
import sys, time, platform
from pathlib import Path
import torch
from fastcore.script import call_parse
from orderviz.core import default_device, seed_everything
from orderviz.gpt import GPT, gpt_config
from orderviz.orders import random_orders
from orderviz.gpt_sample import generate, generate_reference


def _sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def _seconds(fn, device)->tuple[float, float]:
    "(wall-clock, process CPU) seconds of `fn()`."
    _sync(device); t, c = time.perf_counter(), time.process_time(); fn(); _sync(device)
    return time.perf_counter() - t, time.process_time() - c


def _verdict(x:float, claim:float)->str: return 'OK' if x >= claim else 'FAILED'


def bench_gpt(size:str='tiny', # GPT size (`orderviz.gpt.GPT_SIZES`)
              grid:int=16, # tokens per side: 16 gives LlamaGen's 256 tokens
              batch:int=32, # images sampled together
              vocab:int=16384, # vocabulary (LlamaGen's VQ-16 codebook)
              cfg_scale:float=1.0, # guidance (> 1 doubles the batch)
              repeats:int=5, # timed repetitions of the cached samplers (the best one counts)
              device:str|None=None, # device; default: `orderviz.core.default_device()`
             )->dict:
    "Time any-order KV-cached, raster KV-cached and full-forward sampling of one GPT; print and return the ratios."
    dev = torch.device(device) if device else default_device()
    seed_everything(0)
    model = GPT(gpt_config(size, vocab_size=vocab, num_classes=1000, grid_size=grid)).to(dev).eval()
    torch.nn.init.normal_(model.output.weight, std=0.02)  # a non-zero head: sampling is not uniform
    labels = torch.randint(0, 1000, (batch,), device=dev)
    orders = random_orders(batch, grid, grid, generator=torch.Generator().manual_seed(0)).to(dev)
    kw = dict(cfg_scale=cfg_scale, seed=0)
    generate(model, labels, order=orders, **kw)  # warm-up
    t_any, t_raster = [], []
    for _ in range(repeats):  # interleaved, so that load changes hit both alike
        t_any.append(_seconds(lambda: generate(model, labels, order=orders, **kw), dev))
        t_raster.append(_seconds(lambda: generate(model, labels, order='raster', **kw), dev))
    t_full = _seconds(lambda: generate_reference(model, labels, order=orders, **kw), dev)
    res = dict(size=size, tokens=grid * grid, batch=batch, vocab=vocab, device=str(dev), threads=torch.get_num_threads())
    print(f"GPT-{size}, {grid * grid} tokens, vocabulary {vocab}, batch {batch}, cfg {cfg_scale}, {dev} "
          f"({platform.processor() or platform.machine()}, {res['threads']} torch threads)")
    print(f"  {'':34s} {'wall s':>9s} {'CPU s':>9s}")
    for i, clock in enumerate(('wall', 'cpu')):
        a, r, f = min(t[i] for t in t_any), min(t[i] for t in t_raster), t_full[i]
        res.update({f'any_order_kv_{clock}_s': a, f'raster_kv_{clock}_s': r, f'full_forward_{clock}_s': f,
                    f'speedup_vs_full_forward_{clock}': f / a, f'any_order_vs_raster_{clock}': r / a})
    for name, key in [(f'any-order KV-cached (best of {repeats})', 'any_order_kv'), (f'raster KV-cached (best of {repeats})', 'raster_kv'),
                      ('any-order full forward', 'full_forward')]:
        print(f"  {name:34s} {res[key + '_wall_s']:9.3f} {res[key + '_cpu_s']:9.3f}")
    for name, key, claim in [('any-order KV-cached vs full forward', 'speedup_vs_full_forward', 10.0),
                             ('any-order speed relative to raster', 'any_order_vs_raster', 0.9)]:
        w, c = res[key + '_wall'], res[key + '_cpu']
        print(f"  {name:34s} {w:8.2f}x {c:8.2f}x   claim >= {claim}x: wall {_verdict(w, claim)}, CPU {_verdict(c, claim)}")
    return res


def _bench_mar():
    "`bench_mar` from bench/sampling_mar.py, or None when that file is not there."
    sys.path.insert(0, str(Path(__file__).parent))
    try: from sampling_mar import bench_mar
    except ImportError: return None
    return bench_mar


@call_parse
def main(which:str='gpt', # what to benchmark: gpt, mar, rescoring (OrderHead static/semifast-8/slow, bench/rescoring.py) or all
         size:str='tiny', # GPT size
         batch:int=32, # images sampled together
         repeats:int=5, # timed repetitions of the cached samplers
         device:str=None, # device; default: orderviz's default device
         threads:int=0, # CPU threads for torch; 0: torch's default (on a loaded machine 1 avoids thread contention)
        ):
    "Print sampling-speed ratios measured in one run."
    if threads: torch.set_num_threads(threads)
    if which not in ('gpt', 'mar', 'rescoring', 'all'): raise SystemExit(f'--which must be gpt, mar, rescoring or all, got {which!r}')
    if which == 'rescoring':
        from rescoring import main as rescoring   # GPT and MAR, 64 cells, the same models and batch for every policy
        return rescoring(batch=batch, repeats=repeats, threads=threads)
    gpt = bench_gpt(size=size, batch=batch, repeats=repeats, device=device) if which in ('gpt', 'all') else None
    mar = None
    if which in ('mar', 'all'):
        bench_mar = _bench_mar()
        if bench_mar is None: print('MAR: bench/sampling_mar.py (with bench_mar()) is not there; skipped')
        else: mar = bench_mar()
    from _record import record   # bench/results/sampling.json, for the site's Performance page
    rows = [dict(what=f'GPT-{gpt["size"]} any-order KV-cached vs {base} ({clock})', ratio=gpt[f'{key}_{clock}'], seconds=gpt[f'any_order_kv_{clock}_s'])
            for base, key in (('full forward', 'speedup_vs_full_forward'), ('raster KV-cached', 'any_order_vs_raster')) for clock in ('wall', 'cpu')] if gpt else []
    rows += [dict(what=f'MAR-{s} sampling, s/image vs MAR-{list(mar)[0]}', ratio=sec / list(mar.values())[0], seconds=sec) for s, sec in (mar or {}).items()]
    record(__file__, rows, notes=f'GPT batch {batch}, best of {repeats}: claims any-order KV-cached >= 10x full forward and >= 0.9x raster KV-cached')
