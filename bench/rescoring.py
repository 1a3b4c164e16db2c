"""Cost of OrderHead rescoring during sampling, measured side by side in one run on one machine.

For the same backbone, batch and head, the time of a generation with an OrderHead policy that is called once
(`static`), eight times (`semifast-8`) or at every step (`slow`), and of plain raster sampling. The claims checked:
semifast-8 at most 1.3x and slow at most 2x the time of the static order. GPT: 64 tokens (an 8 x 8 grid, the mnist5k
tokenizers' vocabulary of 512); MAR: an 8 x 8 latent grid with 16 channels.

    python bench/rescoring.py                   # GPT and MAR, batch 16, best of 3 interleaved repetitions
    python bench/rescoring.py --threads 1       # on a busy machine: no thread contention
"""
from __future__ import annotations
import json, time, datetime, platform, subprocess
from pathlib import Path
import torch, torch.nn as nn
from fastcore.script import call_parse
from orderviz.gpt import GPT, gpt_config
from orderviz.mar import MAR, mar_config
from orderviz.gpt_sample import generate as gpt_generate
from orderviz.mar_sample import generate as mar_generate
from orderviz.order_head import order_head_for, OrderHeadPolicy

CLAIMS = {'semifast-8': 1.3, 'slow': 2.0}


def _models(seed:int=0):
    "A tiny GPT (tape mode, 8x8 grid, 512 codes) and a small MAR (8x8 latents, 16 channels) with random, non-trivial heads."
    torch.manual_seed(seed)
    gpt = GPT(gpt_config('tiny', vocab_size=512, num_classes=10, grid_size=8, order_mode='tape')).eval()
    nn.init.normal_(gpt.output.weight, std=0.02)
    mar = MAR(mar_config('tiny', img_size=32, vae_stride=4, vae_embed_dim=16, num_classes=10, buffer_size=16,
                         num_sampling_steps='25')).eval()
    return gpt, mar


def _time(fn)->float:
    t = time.perf_counter(); fn(); return time.perf_counter() - t


def bench_backbone(name:str, sample, head, repeats:int)->list[dict]:
    "Best-of-`repeats` seconds of raster, static, semifast-8 and slow sampling, interleaved; rows with ratios to static."
    runs = {'raster': lambda: sample(None), 'static': lambda: sample(OrderHeadPolicy(head, 'static')),
            'semifast-8': lambda: sample(OrderHeadPolicy(head, 'semifast', n=8)), 'slow': lambda: sample(OrderHeadPolicy(head, 'slow'))}
    for f in runs.values(): f()  # warm-up
    t = {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items(): t[k].append(_time(f))
    best = {k: min(v) for k, v in t.items()}
    return [dict(what=f'{name} {k}', seconds=best[k], ratio=best[k] / best['static'], claim=CLAIMS.get(k)) for k in runs]


def _git_sha()->str|None:
    try: return subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True, check=True).stdout.strip()
    except Exception: return None


@call_parse
def main(batch:int=16, # images sampled together
         repeats:int=3, # interleaved timed repetitions (the best counts)
         num_iter:int=16, # MAR generation steps
         threads:int=0, # torch threads; 0: torch's default
         out:str='bench/results/rescoring.json', # where to write the record ('' to skip)
        ):
    "Print the time of OrderHead rescoring relative to a static order, for the GPT and MAR."
    if threads: torch.set_num_threads(threads)
    gpt, mar = _models()
    labels = torch.arange(batch) % 10
    rows = []
    with torch.no_grad():
        gh, mh = order_head_for(gpt).eval(), order_head_for(mar).eval()
        for h in (gh, mh): nn.init.normal_(h.head.weight, std=0.1)
        rows += bench_backbone('GPT-tiny 64 tokens', lambda pol: gpt_generate(gpt, labels, policy=pol, seed=0), gh, repeats)
        rows += bench_backbone(f'MAR-tiny 8x8, {num_iter} steps', lambda pol: mar_generate(mar, labels, policy=pol, num_iter=num_iter, seed=0), mh, repeats)
    load = Path('/proc/loadavg').read_text().split()[0] if Path('/proc/loadavg').exists() else '?'
    print(f'OrderHead rescoring, batch {batch}, best of {repeats}, {torch.get_num_threads()} torch threads, load {load} '
          f'({platform.processor() or platform.machine()})')
    for r in rows:
        verdict = '' if r['claim'] is None else f"  claim <= {r['claim']}x: {'OK' if r['ratio'] <= r['claim'] else 'FAILED'}"
        print(f"  {r['what']:34s} {r['seconds']:8.3f} s  {r['ratio']:5.2f}x static{verdict}")
    if out:
        rec = dict(script='rescoring', date=datetime.datetime.now().isoformat(timespec='seconds'), git_sha=_git_sha(),
                   machine=platform.processor() or platform.machine(), threads=torch.get_num_threads(),
                   rows=[{k: v for k, v in r.items() if k != 'claim'} for r in rows],
                   notes=f'batch {batch}, best of {repeats} interleaved, load {load}; claims: semifast-8 <= 1.3x, slow <= 2x static')
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(rec, indent=2) + '\n')
        print(f'wrote {out}')
