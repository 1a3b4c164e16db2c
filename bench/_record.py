"""The record a benchmark script leaves for the site's Performance page: `bench/results/<script>.json`.

    from _record import record
    record(__file__, rows=[dict(what='Learner / bare loop, wall clock', ratio=0.97, seconds=1.52)], notes='...')

Each row names what was measured, the ratio the claim is about (or None) and the seconds it took (or None).
The record adds where and when: date, git commit, machine (CPU or GPU name) and torch threads.
"""
from __future__ import annotations
import os, json, socket, datetime, platform, subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent/'results'

def _git_sha()->str|None:
    try: return subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=RESULTS.parent, capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except Exception: return None

def _machine()->tuple[str, int|None]:
    "The device the numbers came from, and torch's CPU threads."
    try:
        import torch
        dev = torch.cuda.get_device_name() if torch.cuda.is_available() else f'CPU {platform.processor() or platform.machine()}'
        return f'{dev} ({socket.gethostname()})', torch.get_num_threads()
    except ImportError: return f'CPU {platform.machine()} ({socket.gethostname()})', None

def record(script, # the benchmark's file (`__file__`) or name
           rows:list, # dicts with `what`, `ratio`, `seconds` (more keys become more columns)
           notes:str='', # how to read the numbers, the claims they test
           out=None, # folder of records (default: bench/results)
          )->Path:
    "Write the benchmark's record as JSON; returns its path."
    bad = [r for r in rows if not {'what', 'ratio', 'seconds'} <= set(r)]
    if bad: raise ValueError(f'every row needs what, ratio and seconds; fix {bad}')
    name = Path(script).stem
    machine, threads = _machine()
    rec = dict(script=f'{name}.py', date=datetime.datetime.now().astimezone().isoformat(timespec='seconds'), git_sha=_git_sha(),
               machine=machine, threads=threads, rows=rows, notes=notes)
    path = Path(out or RESULTS)/f'{name}.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.tmp')  # written whole, then moved: a failed write leaves the old record
    try:
        tmp.write_text(json.dumps(rec, indent=1) + '\n', encoding='utf-8')
        os.replace(tmp, path)
    finally: tmp.unlink(missing_ok=True)
    print(f'recorded {path}')
    return path
