"""Sampling time of MAR per image: 64 generation steps at the tiny and base sizes (random weights, same schedule as the official models).

Run `python bench/sampling_mar.py [--device cuda] [--batch 16] [--sizes tiny,base]`; `bench/sampling.py` imports `bench_mar`.
"""
from __future__ import annotations
import sys, time, contextlib
from functools import partial
from pathlib import Path
import numpy as np, torch
from fastcore.script import call_parse
from orderviz.core import default_device
from orderviz.mar import MAR, mar_config
from orderviz.mar_sample import generate
from orderviz.fast_decode import check_dtype
sys.path.insert(0, str(Path(__file__).parent))
from _timing import interleaved

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


# ---------------------------------------------------------------- against the official code
@contextlib.contextmanager
def cuda_calls_stay(device):
    "On the CPU, make `.cuda()` a no-op inside the block: the official code calls it everywhere (its files stay untouched)."
    if torch.device(device).type == 'cuda': yield; return
    keep = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self
    try: yield
    finally: torch.Tensor.cuda = keep


def mar_official(path):
    "The official `models.mar` module imported from a local checkout of LTH14/mar at `path`."
    path = Path(path).expanduser().resolve()
    if not (path/'models/mar.py').exists():
        raise SystemExit(f'--mar-official {path}: no models/mar.py there; pass a checkout of github.com/LTH14/mar')
    sys.path.insert(0, str(path))
    from models import mar as mar_mod
    return mar_mod


def _official_mar(mar_mod, size:str, device):
    "An official MAR of `size` with its own initialisation, built as `main_mar.py` builds it."
    c = mar_config(size)
    torch.manual_seed(0)
    m = mar_mod.MAR(img_size=c.img_size, vae_stride=c.vae_stride, patch_size=c.patch_size, encoder_embed_dim=c.encoder_embed_dim,
                    encoder_depth=c.encoder_depth, encoder_num_heads=c.encoder_num_heads, decoder_embed_dim=c.decoder_embed_dim,
                    decoder_depth=c.decoder_depth, decoder_num_heads=c.decoder_num_heads, mlp_ratio=c.mlp_ratio,
                    norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), vae_embed_dim=c.vae_embed_dim, class_num=c.num_classes,
                    buffer_size=c.buffer_size, diffloss_d=c.diffloss_d, diffloss_w=c.diffloss_w,
                    num_sampling_steps=c.num_sampling_steps, diffusion_batch_mul=c.diffusion_batch_mul)
    return m.to(device).eval()


def bench_mar_official(path, # a checkout of LTH14/mar
                       size:str='base', # MAR size
                       batch:int=1, # images sampled together
                       num_iter:int=64, # generation steps
                       cfg:float=3.0, # guidance scale (linear schedule, as the official evaluation)
                       dtypes=('fp32', 'bf16'), # precisions compared: fp32, or autocast in bf16/fp16 (the official code samples under autocast)
                       repeats:int=2, # interleaved rounds (the best counts)
                       compiled:bool=True, # also time orderviz compiled (the official code has no compiled path)
                       device=None, log=print)->dict:
    "Time MAR's `sample_tokens` and orderviz's `generate` on the same weights; ratios and the fp32 difference for the same orders and seed."
    from orderviz.mar import load_mar
    from orderviz.orders import from_mar_order
    from orderviz.mar_sample import mar_steps
    mar_mod = mar_official(path)
    dev = torch.device(device) if device is not None else default_device()
    official = _official_mar(mar_mod, size, dev)
    ours = load_mar(official.state_dict(), size=size, map_location=dev)
    labels = (torch.arange(batch) * 37 % 1000).to(dev)
    with cuda_calls_stay(dev): np.random.seed(0); orders = official.sample_orders(batch).to(dev)  # the orders the official run below draws
    def theirs(dt):
        def run():
            np.random.seed(0); torch.manual_seed(0)
            amp = torch.autocast(dev.type, dtype=dt) if dt != torch.float32 else contextlib.nullcontext()
            with cuda_calls_stay(dev), amp, torch.no_grad():
                return official.sample_tokens(batch, num_iter=num_iter, cfg=cfg, cfg_schedule='linear', labels=labels, temperature=1.0)
        return run
    mine = lambda **kw: (lambda: generate(ours, labels, order=from_mar_order(orders), num_iter=num_iter, cfg_scale=cfg,
                                          cfg_schedule='linear', seed=0, **kw).latents)
    runs, compile_s = {}, {}
    for d in dtypes:
        dt = check_dtype(d, dev)
        runs[f'official {d} eager'], runs[f'orderviz {d} eager'] = theirs(dt), mine(dtype=dt)
        if compiled:
            runs[f'orderviz {d} compiled'] = mine(dtype=dt, compile=True)
            t = time.perf_counter(); runs[f'orderviz {d} compiled'](); compile_s[f'orderviz {d}'] = time.perf_counter() - t
    diff = {}
    if 'fp32' in dtypes:  # same orders, same noise: the same latents up to rounding
        ref = runs['official fp32 eager']()
        diff = {k: float((runs[k]() - ref).abs().max() / ref.abs().max()) for k in runs if k.startswith('orderviz fp32')}
    graphs = [s.graphs for s in mar_steps(dev, True)] if compiled else []
    t = interleaved(runs, repeats, dev, log)
    return dict(size=size, batch=batch, num_iter=num_iter, cfg=cfg, device=str(dev), threads=torch.get_num_threads(),
                seconds=t['best'], loads=t['loads'], compile_seconds=compile_s, fp32_relative_difference=diff, graphs=graphs,
                pass_seconds=bf16_pass_seconds(ours, batch, cfg, dev, log) if 'bf16' in dtypes else {})


def bf16_pass_seconds(model, batch:int, cfg:float, device, log=print, repeats:int=3)->dict:
    "Seconds of one encoder-decoder pass (half the cells visible) in fp32, in bf16 on torch's bf16 kernels (autocast) and on fp32 kernels (`Bf16ByFp32`)."
    from orderviz.fast_decode import precision_context
    r = 2 if cfg != 1.0 else 1
    g = torch.Generator().manual_seed(0)
    known = torch.rand(r * batch, model.seq_len, generator=g).argsort(1).argsort(1).lt(model.seq_len // 2).to(device)
    tokens = torch.randn(r * batch, model.seq_len, model.token_embed_dim, generator=g).to(device)
    labels = torch.arange(r * batch, device=device) % model.num_classes
    def run(kernels, dtype):
        net, ctx = precision_context(model, dtype, device, kernels)
        def go():
            with torch.inference_mode(), ctx: net.predict_z_at(tokens, net.class_embedding(labels), net.encoder_positions(known))
        return go
    runs = {'fp32': run('auto', None), 'bf16, torch bf16 kernels (autocast)': run('native', torch.bfloat16),
            'bf16, fp32 kernels (Bf16ByFp32)': run('fp32', torch.bfloat16)}
    for fn in runs.values(): fn()  # warm (the rounded copy)
    return interleaved(runs, repeats, device, log)['best']


def report_mar_official(r:dict, log=print)->list:
    "Print the MAR comparison and return its rows for the record."
    s, rows = r['seconds'], []
    log(f"MAR-{r['size']}, {r['num_iter']} steps, batch {r['batch']}, cfg {r['cfg']} (linear), {r['device']} ({r['threads']} torch threads), "
        f"load during rounds {', '.join(f'{l:.2f}' for l in r['loads'])}")
    m = f"MAR-{r['size']}, {r['num_iter']} steps,"
    for k, v in s.items(): rows.append(dict(what=f"{m} sampling: {k}", ratio=None, seconds=round(v, 3)))
    for k in [k for k in s if k.startswith('orderviz')]:
        d = k.split()[1]
        base = s.get(f'official {d} eager')
        log(f"  {k:28s} {s[k]:8.2f} s   {base / s[k]:5.2f}x official {d} ({base:.2f} s)")
        rows.append(dict(what=f"{m} {k} vs official {d} (speed-up)", ratio=round(base / s[k], 3), seconds=round(s[k], 3)))
    for d in sorted({k.split()[1] for k in s}):
        mine = [s[k] for k in s if k.startswith(f'orderviz {d}')]
        if mine and f'official {d} eager' in s:
            sp = s[f'official {d} eager'] / min(mine)
            log(f"  claim: MAR-{r['size']} {d} {sp:.2f}x official {d} (>= 1.3: {'OK' if sp >= 1.3 else 'FAILED'})")
    for k, v in r['compile_seconds'].items(): log(f'  compile + first run, {k}: {v:.1f} s')
    if r['graphs']: log(f"  compiled graphs (encoder-decoder pass, diffusion step): {r['graphs']}")
    for k, v in r['fp32_relative_difference'].items():
        log(f'  {k} vs official fp32, same orders and seed: max |difference| / max |official| = {v:.2g}')
        rows.append(dict(what=f"{m} {k} vs official fp32 latents, same orders and noise (max |difference| / max |official|)", ratio=None, seconds=None, difference=v))
    p = r.get('pass_seconds') or {}
    for k, v in p.items():
        log(f"  one encoder-decoder pass, {k}: {v:.2f} s ({v / p['fp32']:.2f}x fp32)")
        rows.append(dict(what=f"MAR-{r['size']} one encoder-decoder pass, {k} (time / fp32)", ratio=round(v / p['fp32'], 3), seconds=round(v, 3)))
    return rows

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
