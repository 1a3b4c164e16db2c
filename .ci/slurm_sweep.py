"""A sweep through a real Slurm scheduler, end to end: submit four runs as a job array; while two of them execute their
notebooks, cancel one with `scancel` (Slurm sends SIGTERM: the run records itself as interrupted) and kill the other's
process with SIGKILL (as a crash or the OOM killer would: nothing is recorded, and `orderviz status` reports it lost
once Slurm no longer knows its job); run the sweep again and see that only those two execute; then all four are done.
Last, one run submitted alone with `orderviz run --slurm`.

    python .ci/slurm_sweep.py [.ci/sweep_e01.yaml]     # needs a running Slurm (.ci/slurm up) and $ORDERVIZ_RUNS

Prints every command and its output; exits non-zero when a check fails.
"""
import os, sys, time, shlex, signal, subprocess
from pathlib import Path
from orderviz.core import Run
from orderviz.runs import load_sweep, plan_sweep, slurm_jobs, run_status

def sh(*cmd)->str:
    "Run a command, echo it with its output; stop on failure."
    t = time.time()
    print(f'$ {shlex.join(cmd)}', flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True)
    out = (p.stdout + p.stderr).rstrip()
    if out: print(out, flush=True)
    print(f'  (exit {p.returncode}, {time.time() - t:.1f} s)', flush=True)
    if p.returncode: raise SystemExit(f'FAILED: {" ".join(cmd)} exited {p.returncode}')
    return out

def wait_for(what:str, cond, timeout:float=600, poll:float=1):
    t = time.time()
    while not cond():
        if time.time() - t > timeout: raise SystemExit(f'FAILED: waited {timeout:.0f} s for {what}')
        time.sleep(poll)
    print(f'  {what}: after {time.time() - t:.0f} s', flush=True)

def check(cond, msg:str):
    print(('ok: ' if cond else 'FAILED: ') + msg, flush=True)
    if not cond: raise SystemExit(1)

def main(sweep:str):
    sw = load_sweep(sweep)
    runs = lambda: [r for _, r, _ in plan_sweep(sw)]
    slow = [i for i, p in enumerate(sw['points']) if p.get('sleep_s')]
    check(len(slow) == 2, f'the sweep has {len(sw["points"])} runs, two of them slow ({", ".join(str(i + 1) for i in slow)})')

    print('\n== 1. submit the sweep as a job array', flush=True)
    out = sh('orderviz', 'sweep', sweep, '--slurm')
    check(out.count('submitted job') == len(sw['points']), f'{len(sw["points"])} array tasks submitted')
    sh('squeue')

    print('\n== 2. stop the two slow jobs while their notebooks run: scancel one, SIGKILL the other', flush=True)
    cancel, kill = [runs()[i] for i in slow]
    def stop(r):
        "Stop a run's job as soon as its notebook executes: the first with scancel, the second with SIGKILL to its process."
        if r.info.get('status') != 'running' or not (r.path/'executed.ipynb').exists(): return False
        sh('squeue')
        if r is cancel: sh('scancel', r.info['job_id'])
        else:
            print(f'$ kill -KILL {r.info["pid"]}   # the process executing {r.path.name} (job {r.info["job_id"]}, from its run.json)', flush=True)
            os.kill(r.info['pid'], signal.SIGKILL)
        return True
    todo, t = [cancel, kill], time.time()
    while todo:
        if time.time() - t > 600: raise SystemExit(f'FAILED: waited 600 s for {", ".join(r.path.name for r in todo)} to execute')
        todo = [r for r in todo if not stop(r)]
        time.sleep(0.5)
    print(f'  both slow runs stopped while their notebooks ran: after {time.time() - t:.0f} s', flush=True)
    ids = {r.info['job_id'] for r in runs()}
    wait_for('no job of the sweep left in squeue', lambda: not ids & set(slurm_jobs() or {}), poll=2)
    sh('orderviz', 'status', '--sweep', sweep)
    st = [r.status for r in runs()]
    check(st.count('done') == 2 and (st[slow[0]], st[slow[1]]) == ('interrupted', 'lost'),
          f'2 runs done, the cancelled one {st[slow[0]]}, the killed one {st[slow[1]]}')
    jobs = {r.path.name: r.info['job_id'] for r in (cancel, kill)}

    print('\n== 3. run the sweep again: only the two missing runs execute', flush=True)
    out = sh('orderviz', 'sweep', sweep, '--slurm', '--wait')
    sub = [l.split(': ')[-1] for l in out.splitlines() if 'submitted job' in l]
    check(sorted(sub) == sorted(jobs), f'{len(sub)} jobs submitted, for {", ".join(sub)}')
    st = [r.status for r in runs()]
    check(st == ['done'] * len(st), f'all {len(st)} runs done')
    for r in (cancel, kill):
        a = r.info['attempts']
        check([x['job_id'] for x in a] == [jobs[r.path.name]], f'{r.path.name}: the stopped attempt is kept in run.json ({a[0]["status"]}, job {a[0]["job_id"]})')
    sh('orderviz', 'status', '--sweep', sweep)

    print('\n== 4. one run as a batch job: orderviz run --slurm', flush=True)
    out = sh('orderviz', 'run', sw['experiment'], '--params', 'grid=4 steps=4 orders=raster n_random=2', '--slurm', '--cpus', '1', '--mem_gb', '1')
    one = Run(out.splitlines()[0].split(': ', 1)[1])
    wait_for(f'{one.path.name} finished', lambda: run_status(one) not in ('pending', 'running'), poll=2)
    check(run_status(one) == 'done' and one.info['host'] and one.info['pid'], f'{one.path.name}: {run_status(one)}, executed by pid {one.info["pid"]} on {one.info["host"]} in job {one.info["job_id"]}')
    wait_for('every job ended in Slurm', lambda: not slurm_jobs(), poll=2)
    print('slurm sweep: all checks passed', flush=True)

if __name__ == '__main__':
    if not os.environ.get('ORDERVIZ_RUNS'): raise SystemExit('set $ORDERVIZ_RUNS to a folder for the runs of this check')
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).parent/'sweep_e01.yaml'))
