"""Timing helpers the sampling benchmarks share: the load of a shared machine, interleaved best-of-N rounds.

A background job on a shared machine can skew a ratio fourfold: measure when the 1-minute load is low
(`wait_for_quiet`), run the compared callables in turn in every round (`interleaved`, so that a load change hits all
of them alike), keep each one's best round, and (`timed`) count a run only if the rest of the machine stayed
idle while it ran: the CPU time every process used, from /proc/stat, minus this process's own.
"""
from __future__ import annotations
import os, time
from pathlib import Path
import torch


def sync(device):
    "Wait for the GPU (no-op on the CPU)."
    if torch.device(device).type == 'cuda': torch.cuda.synchronize(device)


def load_avg()->float:
    "The 1-minute load average (0 where the system does not say)."
    try: return float(Path('/proc/loadavg').read_text().split()[0])
    except (OSError, ValueError, IndexError): return 0.0


def wait_for_quiet(max_load:float, # wait while the load is at or above this; 0: do not wait
                   poll:int=60, # seconds between looks
                   log=print):
    "Wait until the 1-minute load average is below `max_load`."
    while max_load and (l := load_avg()) >= max_load:
        log(f'  load {l:.2f} >= {max_load}: waiting {poll} s'); time.sleep(poll)


def _busy_seconds()->float|None:
    "CPU seconds all processes have used since boot (None where /proc/stat is missing)."
    try: f = [int(v) for v in Path('/proc/stat').read_text().split('\n', 1)[0].split()[1:]]
    except (OSError, ValueError): return None
    return (sum(f) - f[3] - f[4]) / os.sysconf('SC_CLK_TCK')  # all but idle and iowait


def timed(fn, device)->tuple[float, float]:
    "(wall seconds of `fn()`, CPU cores' worth of other processes during it: 0 on a quiet machine)."
    b0, c0 = _busy_seconds(), time.process_time()
    sync(device); t = time.perf_counter(); fn(); sync(device); wall = time.perf_counter() - t
    if b0 is None: return wall, 0.0
    return wall, max(0.0, (_busy_seconds() - b0) - (time.process_time() - c0)) / wall


def quiet_seconds(fn, device='cpu', max_others:float=0.1, tries:int=60, log=print)->float:
    "Wall seconds of one run of `fn` during which other processes used less than `max_others` cores (the least disturbed of `tries`)."
    best = (float('inf'), float('inf'))
    for _ in range(tries):
        wall, busy = timed(fn, device)
        if busy < max_others: return wall
        best = min(best, (busy, wall)); time.sleep(10)
    log(f'  no undisturbed run in {tries} tries; the least disturbed had {best[0]:.2f} other cores busy')
    return best[1]


def interleaved(runs:dict, # name -> callable
                repeats:int, # rounds; each round runs every callable once, in turn
                device, # where they run (to wait for a GPU)
                log=print,
                max_others:float=0.1, # a run counts only if other processes used less than this many cores on average meanwhile
                tries:int=20, # runs of one callable in one round before its best disturbed run is taken
               )->dict:
    "Best wall-clock seconds of each callable over `repeats` interleaved rounds of undisturbed runs; the load seen."
    best, loads, others = {k: float('inf') for k in runs}, [], {k: 0.0 for k in runs}
    for r in range(repeats):
        loads.append(load_avg())
        for k, fn in runs.items():
            fallback = (float('inf'), 0.0)
            for i in range(tries):
                wall, busy = timed(fn, device)
                if busy < max_others: break
                fallback = min(fallback, (wall, busy))
                log(f'    {k}: other processes used {busy:.2f} cores meanwhile; again in 30 s'); time.sleep(30)
            else: wall, busy = fallback
            if wall < best[k]: best[k], others[k] = wall, busy
        log(f'  round {r + 1}/{repeats} (load {loads[-1]:.2f}): ' + ', '.join(f'{k} {v:.2f}s' for k, v in best.items()))
    return dict(best=best, loads=loads, others=others)

