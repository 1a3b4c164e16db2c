"""Sampling time of MAR per image: 64 generation steps at the tiny and base sizes (random weights, same schedule as the official models).

Run `python bench/sampling_mar.py [--device cuda] [--batch 16] [--sizes tiny,base]`; `bench/sampling.py` imports `bench_mar`.
"""
from __future__ import annotations
import time
import torch
from fastcore.script import call_parse
from orderviz.core import default_device
from orderviz.mar import MAR, mar_config
from orderviz.mar_sample import generate

def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)

def time_mar(size:str='tiny', # MAR size
             batch:int=4, # images per call
             num_iter:int=64, # generation steps
             cfg:float=3.0, # guidance scale (3.0: the batch runs twice, as in the reported FIDs)
             device=None, # device; `default_device()` if None
             repeats:int=1, # timed calls (after one untimed warm-up of 2 steps)
             seed:int=0, # seed of weights and sampling
            )->float:
    "Seconds per image of `generate` for a randomly initialised MAR of `size` on 256x256 images (16x16 latents)."
    dev = torch.device(device) if device is not None else default_device()
    torch.manual_seed(seed)
    model = MAR(mar_config(size)).to(dev).eval()
    labels = torch.arange(batch, device=dev) % model.num_classes
    generate(model, labels, num_iter=2, cfg_scale=cfg, seed=seed)
    _sync(dev); t0 = time.perf_counter()
    for r in range(repeats): generate(model, labels, num_iter=num_iter, cfg_scale=cfg, seed=seed + r)
    _sync(dev)
    return (time.perf_counter() - t0) / (repeats * batch)

def bench_mar(sizes=('tiny', 'base'), # MAR sizes to time
              batch:int|None=None, # images per call; None: 32 on CUDA, 1 on the CPU
              num_iter:int=64, # generation steps
              cfg:float=3.0, # guidance scale
              device=None, # device; `default_device()` if None
              repeats:int=1, # timed calls per size
             )->dict:
    "Print and return seconds per image for each size, and each size's time relative to the first."
    dev = torch.device(device) if device is not None else default_device()
    batch = batch or (32 if dev.type == 'cuda' else 1)
    res = {s: time_mar(s, batch, num_iter, cfg, dev, repeats) for s in sizes}
    name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'
    print(f'MAR sampling, {num_iter} steps, cfg {cfg}, batch {batch}, 100 diffusion steps, fp32 on {name}')
    for s, sec in res.items(): print(f'  MAR-{s:5s} {sec:9.3f} s/image   x{sec / res[sizes[0]]:.1f} vs {sizes[0]}')
    return res

@call_parse
def main(sizes:str='tiny,base', # comma-separated MAR sizes
         batch:int=0, # images per call; 0: 32 on CUDA, 1 on the CPU
         num_iter:int=64, # generation steps
         cfg:float=3.0, # guidance scale
         device:str=None, # device (default: CUDA when available)
         repeats:int=1, # timed calls per size
         threads:int=0, # CPU threads for torch; 0: torch's default (on a loaded machine 1 avoids thread contention)
        ):
    "Print MAR's sampling time per image at each size."
    if threads: torch.set_num_threads(threads)
    res = bench_mar(tuple(sizes.split(',')), batch or None, num_iter, cfg, device, repeats)
    from _record import record   # bench/results/sampling_mar.json, for the site's Performance page
    first = list(res)[0]
    record(__file__, [dict(what=f'MAR-{s} sampling, s/image vs MAR-{first}', ratio=sec / res[first], seconds=sec) for s, sec in res.items()],
           notes=f'{num_iter} generation steps, cfg {cfg}, random weights')
