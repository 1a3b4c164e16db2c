"""Sampling speed of orderviz's samplers, measured in one run on one machine for the same model and batch.

GPT: KV-cached sampling in per-image random orders against (1) the full-forward reference sampler and
(2) KV-cached raster sampling. The claims checked: any-order KV-cached is at least 10x faster than full forward
passes at 256 tokens, and at least 0.9x the speed of raster KV-cached sampling.

    python bench/sampling.py                      # GPT only (the default)
    python bench/sampling.py --threads 1          # on a busy machine: no thread contention; compare the CPU-time column
    python bench/sampling.py --which all          # GPT, and MAR when bench/sampling_mar.py provides bench_mar()
    python bench/sampling.py --which rescoring    # OrderHead rescoring (static, semifast-8, slow) on GPT and MAR: bench/rescoring.py

Against the official code (local checkouts; nothing of theirs is stored here):

    python bench/sampling.py --against-official /path/to/LlamaGen --mar-official /path/to/mar --max-load 1.2
    python bench/sampling.py --against-official /path/to/LlamaGen --mar-official /path/to/mar --models mar --mar-iters 16

times LlamaGen's `generate` and MAR's `sample_tokens` against orderviz's samplers on the same random weights, in fp32
and bf16, eager and compiled, interleaved (best of --repeats), prints the ratios, the weight-streaming floor of a GPT
decode step measured on this machine (a read-bandwidth probe) and whether fp32 tokens equal LlamaGen's, and writes
bench/results/sampling_official.json (GPT) and sampling_official_mar.json (MAR), each as soon as its part ends. On a
GPU the same runs use the GPU (fp16 added); on the CPU the GPU section is skipped.
"""
from __future__ import annotations
import sys, time, copy, platform
from pathlib import Path
import torch
from fastcore.script import call_parse
from orderviz.core import default_device, seed_everything
from orderviz.gpt import GPT, gpt_config, load_llamagen
from orderviz.orders import random_orders
from orderviz.gpt_sample import generate, generate_reference
from orderviz.fast_decode import decode_bytes, read_bandwidth, cast_copy, check_dtype
sys.path.insert(0, str(Path(__file__).parent))
from _timing import interleaved, wait_for_quiet, quiet_seconds
from _record import record


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



# ---------------------------------------------------------------- against the official code
def llamagen_official(path):
    "LlamaGen's `Transformer`, `ModelArgs` and `generate` imported from a local checkout at `path`."
    path = Path(path).expanduser().resolve()
    if not (path/'autoregressive/models/gpt.py').exists():
        raise SystemExit(f'--against-official {path}: no autoregressive/models/gpt.py there; pass a checkout of github.com/FoundationVision/LlamaGen')
    sys.path.insert(0, str(path))
    from autoregressive.models.gpt import Transformer, ModelArgs
    from autoregressive.models.generate import generate as official_generate
    return Transformer, ModelArgs, official_generate


def _official_gpt(Transformer, ModelArgs, size:str, device):
    "An official LlamaGen c2i GPT of `size` with its own initialisation and a non-zero output head (so that sampling is not uniform)."
    c = gpt_config(size)
    torch.manual_seed(0)
    m = Transformer(ModelArgs(dim=c.dim, n_layer=c.n_layer, n_head=c.n_head, vocab_size=c.vocab_size, num_classes=c.num_classes,
                              block_size=c.block_size, cls_token_num=1, model_type='c2i'))
    torch.nn.init.normal_(m.output.weight, std=0.02)
    return m.to(device).eval()


def _compiled_official(model, device):
    "LlamaGen's own compile path (`sample_c2i.py --compile`): the whole model, fullgraph, CUDA graphs where there are GPUs."
    return torch.compile(model, mode='reduce-overhead' if device.type == 'cuda' else None, fullgraph=True)


def bench_gpt_official(path, # a LlamaGen checkout
                       size:str='B', # GPT size
                       batch:int=2, # images sampled together
                       cfg:float=1.0, # guidance scale (LlamaGen's default for its FIDs is 4.0; > 1 doubles the rows)
                       dtypes=('fp32', 'bf16'), # precisions compared
                       repeats:int=3, # interleaved rounds (the best counts)
                       compiled:bool=True, # also time both compiled paths
                       device=None, log=print)->dict:
    "Time LlamaGen's `generate` and orderviz's `generate` (raster and random orders) on the same weights; ratios, floor, token equality."
    Transformer, ModelArgs, official_generate = llamagen_official(path)
    dev = torch.device(device) if device else default_device()
    official = _official_gpt(Transformer, ModelArgs, size, dev)
    ours = load_llamagen(official.state_dict(), size=size, grid_size=16).to(dev)
    labels = torch.randint(0, 1000, (batch,), generator=torch.Generator().manual_seed(1)).to(dev)
    L = ours.config.block_size
    def theirs(model):
        def run():
            torch.manual_seed(0)  # official sampling draws from the global generator
            return official_generate(model, labels, L, cfg_scale=cfg, cfg_interval=-1, temperature=1.0, top_k=0, top_p=1.0, sample_logits=True)
        return run
    mine = lambda **kw: (lambda: generate(ours, labels, cfg_scale=cfg, seed=0, **kw).tokens)
    runs, compile_s, tokens = {}, {}, {}
    for d in dtypes:
        dt = check_dtype(d, dev)
        om = copy.deepcopy(official).to(dt)  # what LlamaGen's --precision does
        runs[f'official {d} eager'] = theirs(om)
        runs[f'orderviz {d} eager'] = mine(dtype=dt)
        if compiled:
            try:
                runs[f'official {d} compiled'] = theirs(_compiled_official(om, dev))
                t = time.perf_counter(); runs[f'official {d} compiled'](); compile_s[f'official {d}'] = time.perf_counter() - t
            except Exception as e:  # report, do not stop the comparison
                runs.pop(f'official {d} compiled', None); log(f'  official {d} compiled failed: {type(e).__name__}: {str(e)[:200]}')
            runs[f'orderviz {d} compiled'] = mine(dtype=dt, compile=True)
            runs[f'orderviz {d} compiled, random orders'] = mine(dtype=dt, compile=True, order='random')
            t = time.perf_counter(); runs[f'orderviz {d} compiled']()
            compile_s[f'orderviz {d}'] = time.perf_counter() - t
            runs[f'orderviz {d} compiled, random orders']()
    if 'fp32' in dtypes:  # the equality check, before timing: LlamaGen's tokens, token for token
        ref = runs['official fp32 eager']()
        tokens = {k: bool(torch.equal(runs[k]().long().cpu(), ref.long().cpu())) for k in runs if k.startswith('orderviz fp32') and 'random' not in k}
    for k in runs: runs[k]()  # warm (caches, casts)
    t = interleaved(runs, repeats, dev, log)
    bw = read_bandwidth(timer=lambda fn: quiet_seconds(fn, dev, log=log))
    floors = {d: decode_bytes(cast_copy(ours, check_dtype(d, dev))) * L / bw for d in dtypes}
    return dict(size=size, batch=batch, cfg=cfg, tokens=L, device=str(dev), threads=torch.get_num_threads(), seconds=t['best'],
                loads=t['loads'], compile_seconds=compile_s, fp32_tokens_equal_official=tokens, bandwidth=bw, floor_seconds=floors,
                step_bytes={d: decode_bytes(cast_copy(ours, check_dtype(d, dev))) for d in dtypes})


def report_gpt_official(r:dict, log=print)->list:
    "Print the GPT comparison and return its rows for the record."
    s, rows = r['seconds'], []
    log(f"GPT-{r['size']}, {r['tokens']} tokens, batch {r['batch']}, cfg {r['cfg']}, {r['device']} ({r['threads']} torch threads), "
        f"load during rounds {', '.join(f'{l:.2f}' for l in r['loads'])}")
    log(f"  read bandwidth {r['bandwidth'] / 1e9:.2f} GB/s; weights a decode step reads: " +
        ', '.join(f"{d} {b / 1e6:.0f} MB" for d, b in r['step_bytes'].items()))
    for k, v in s.items(): rows.append(dict(what=f"GPT-{r['size']} sampling: {k}", ratio=None, seconds=round(v, 3)))
    for d, fl in r['floor_seconds'].items():
        base = s.get(f'official {d} eager')
        for k in [k for k in s if k.startswith(f'orderviz {d}')]:
            speed, over = (base / s[k] if base else None), s[k] / fl
            vs = f'{speed:5.2f}x official {d} eager' if speed else f'(no official {d} eager run)'
            log(f"  {k:40s} {s[k]:7.2f} s   {vs}   {over:5.2f}x the floor ({fl:.2f} s)")
            if speed: rows.append(dict(what=f'GPT-{r["size"]} {k} vs official {d} eager (speed-up)', ratio=round(speed, 3), seconds=round(s[k], 3)))
            rows.append(dict(what=f'GPT-{r["size"]} {k} vs the floor (time / floor)', ratio=round(over, 3), seconds=round(fl, 3)))
        for k in [k for k in s if k.startswith(f'official {d}')]:
            log(f"  {k:40s} {s[k]:7.2f} s   {s[k] / fl:5.2f}x the floor")
    best_bf16 = s.get('orderviz bf16 compiled')  # the claims: raster order, as LlamaGen samples
    if best_bf16 and 'official bf16 eager' in s and 'bf16' in r['floor_seconds']:
        speed, over = s['official bf16 eager'] / best_bf16, best_bf16 / r['floor_seconds']['bf16']
        log(f"  claims: bf16 compiled {speed:.2f}x official bf16 eager (>= 1.25: {'OK' if speed >= 1.25 else 'FAILED'}), "
            f"{over:.2f}x the floor (<= 1.15: {'OK' if over <= 1.15 else 'FAILED'})")
    for k, v in r['compile_seconds'].items(): log(f'  compile + first run, {k}: {v:.1f} s')
    if r['fp32_tokens_equal_official']:
        log('  fp32 tokens equal to official LlamaGen: ' + ', '.join(f"{k}: {'yes' if v else 'NO'}" for k, v in r['fp32_tokens_equal_official'].items()))
    rows += [dict(what=f"GPT-{r['size']} {k}: tokens equal to official LlamaGen fp32", ratio=None, seconds=None, equal=bool(v))
             for k, v in r['fp32_tokens_equal_official'].items()]
    return rows

def _bench_mar():
    "`bench_mar` from bench/sampling_mar.py, or None when that file is not there."
    sys.path.insert(0, str(Path(__file__).parent))
    try: from sampling_mar import bench_mar
    except ImportError: return None
    return bench_mar


def cpu_name()->str:
    "The CPU's model name (from /proc/cpuinfo where there is one)."
    try: return next(l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()


def bench_official(llamagen, # a LlamaGen checkout
                   mar=None, # a checkout of LTH14/mar (None: the GPT only)
                   gpt_size:str='B', gpt_batch:int=2, gpt_cfg:float=1.0, # the GPT's size, images and guidance
                   mar_size:str='base', mar_batch:int=1, mar_iters:int=64, mar_cfg:float=3.0, # MAR's size, images, steps and guidance
                   repeats:int=3, # interleaved rounds (the best counts)
                   max_load:float=0.0, # wait before each section until the 1-minute load is below this (0: do not wait)
                   models=('gpt', 'mar'), # which comparisons to run
                   cpu_dtypes=('fp32', 'bf16'), # precisions compared on the CPU
                   done=None, # `done(model, rows)` after each model's comparison on each device (e.g. to write its record)
                   log=print)->dict:
    "The comparison with the official code on this machine's CPU, and on its GPU where there is one; rows for the record of each model."
    rows = {m: [] for m in models}
    sections = [('CPU', torch.device('cpu'), tuple(cpu_dtypes), gpt_batch, mar_batch)]
    if torch.cuda.is_available(): sections.append(('GPU', torch.device('cuda'), ('fp32', 'bf16', 'fp16'), max(gpt_batch, 32), max(mar_batch, 32)))
    else: log('GPU section: no CUDA device here; skipped')
    for name, dev, dtypes, gb, mb in sections:
        log(f'== {name}: {torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_name()}, torch {torch.__version__}')
        if 'gpt' in models:
            wait_for_quiet(max_load, log=log)
            r = bench_gpt_official(llamagen, size=gpt_size, batch=gb, cfg=gpt_cfg, dtypes=dtypes, repeats=repeats, device=dev, log=log)
            rows['gpt'] += [dict(row, section=name, load=max(r['loads'])) for row in report_gpt_official(r, log)]
            if done: done('gpt', rows['gpt'])
        if 'mar' not in models: continue
        if mar is None: log('MAR: no --mar-official checkout given; skipped'); continue
        from sampling_mar import bench_mar_official, report_mar_official
        wait_for_quiet(max_load, log=log)
        r = bench_mar_official(mar, size=mar_size, batch=mb, num_iter=mar_iters, cfg=mar_cfg, dtypes=dtypes, repeats=max(1, repeats - 1), device=dev, log=log)
        rows['mar'] += [dict(row, section=name, load=max(r['loads'])) for row in report_mar_official(r, log)]
        if done: done('mar', rows['mar'])
    return rows


OFFICIAL_RECORDS = {  # model -> (record name, how to read it): each written as soon as its comparison ends
    'gpt': ('sampling_official', 'Same random weights on both sides; best of interleaved rounds; the floor is the bytes of weights a GPT '
            'decode step reads over the read bandwidth measured in the same run. Ratios > 1: orderviz faster (speed-up) or slower than '
            'the floor (time / floor).'),
    'mar': ('sampling_official_mar', 'Same random weights, orders and diffusion noise on both sides; best of interleaved rounds; one '
            'image with guidance (two rows a pass). The official code samples in bf16 under autocast; on a CPU without bf16 '
            'instructions orderviz runs the same bf16 products on fp32 kernels (Bf16ByFp32), and the pass rows time both ways. '
            'Ratios > 1: orderviz faster (speed-up), or a pass slower than fp32 (time / fp32).'),
}


sys.argv[1:] = ['--' + a[2:].replace('-', '_') if a.startswith('--') else a for a in sys.argv[1:]]  # --against-official as well as --against_official


@call_parse
def main(which:str='gpt', # what to benchmark: gpt, mar, rescoring (OrderHead static/semifast-8/slow, bench/rescoring.py) or all
         size:str='tiny', # GPT size
         batch:int=32, # images sampled together
         repeats:int=5, # timed repetitions of the cached samplers
         device:str=None, # device; default: orderviz's default device
         threads:int=0, # CPU threads for torch; 0: torch's default (on a loaded machine 1 avoids thread contention)
         against_official:str=None, # a LlamaGen checkout: compare with the official samplers instead (see the top of this file)
         mar_official:str=None, # with --against-official: a checkout of LTH14/mar
         gpt_size:str='B', # with --against-official: GPT size
         mar_size:str='base', # with --against-official: MAR size
         gpt_batch:int=2, # with --against-official: GPT images sampled together
         gpt_cfg:float=1.0, # with --against-official: GPT guidance scale (> 1 doubles the rows)
         mar_iters:int=64, # with --against-official: MAR generation steps
         max_load:float=0.0, # with --against-official: wait until the 1-minute load is below this (0: do not wait)
         rounds:int=3, # with --against-official: interleaved rounds of the GPT runs (MAR: one fewer, at least one)
         models:str='gpt,mar', # with --against-official: the comparisons to run (mar needs --mar-official)
         dtypes:str='fp32,bf16', # with --against-official: the precisions compared on the CPU
         mar_record:str='sampling_official_mar', # with --against-official: the name of MAR's record in bench/results
        ):
    "Print sampling-speed ratios measured in one run."
    if threads: torch.set_num_threads(threads)
    if against_official:
        models = tuple(m.strip() for m in models.split(','))
        if not set(models) <= {'gpt', 'mar'}: raise SystemExit(f'--models takes gpt, mar or gpt,mar; got {",".join(models)}')
        bench_official(against_official, mar_official, gpt_size=gpt_size, mar_size=mar_size, gpt_batch=gpt_batch, gpt_cfg=gpt_cfg, mar_iters=mar_iters,
                       repeats=rounds, max_load=max_load, models=models, cpu_dtypes=tuple(d.strip() for d in dtypes.split(',')),
                       done=lambda m, rows: record(mar_record if m == 'mar' else OFFICIAL_RECORDS[m][0], rows, OFFICIAL_RECORDS[m][1]))
        return
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
    rows = [dict(what=f'GPT-{gpt["size"]} any-order KV-cached vs {base} ({clock})', ratio=gpt[f'{key}_{clock}'], seconds=gpt[f'any_order_kv_{clock}_s'])
            for base, key in (('full forward', 'speedup_vs_full_forward'), ('raster KV-cached', 'any_order_vs_raster')) for clock in ('wall', 'cpu')] if gpt else []
    rows += [dict(what=f'MAR-{s} sampling, s/image vs MAR-{list(mar)[0]}', ratio=sec / list(mar.values())[0], seconds=sec) for s, sec in (mar or {}).items()]
    record(__file__, rows, notes=f'GPT batch {batch}, best of {repeats}: claims any-order KV-cached >= 10x full forward and >= 0.9x raster KV-cached')
