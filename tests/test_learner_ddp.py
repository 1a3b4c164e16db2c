"DDP tests of `orderviz.learner`: 2 gloo processes launched by torchrun on the CPU against 1 process."
import os, sys, json, subprocess, textwrap
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parent.parent

# One training script for every launch: a deterministic tiny problem, per-process batch size from the command line.
SCRIPT = textwrap.dedent('''
    import os, sys, torch, torch.nn as nn
    sys.path.insert(0, sys.argv[4])
    from orderviz.core import Run
    from orderviz.learner import Learner, TrainConfig, Callback
    torch.set_num_threads(1)
    run_dir, bs, stop_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(48, 6, generator=g), torch.randint(0, 3, (48,), generator=g)
    vx, vy = torch.randn(10, 6, generator=g), torch.randint(0, 3, (10,), generator=g)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 32), nn.Tanh(), nn.Linear(32, 3))
    ds, vds = torch.utils.data.TensorDataset(x, y), torch.utils.data.TensorDataset(vx, vy)
    class StopOnLastRank(Callback):
        "A stop request made on one rank only: all ranks must stop after the same step."
        def after_step(self, learn):
            if learn.step == stop_at and learn.rank == learn.world_size - 1: learn.should_stop = True
    cfg = TrainConfig(max_steps=9, lr=2e-2, warmup_steps=2, grad_clip=0.5, ema_decay=0.8, weight_decay=0.1,
                      log_every=1, ckpt_every=4, progress=False)
    learn = Learner(model, torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=True), nn.functional.cross_entropy, cfg,
                    valid_dl=torch.utils.data.DataLoader(vds, batch_size=3), cbs=[StopOnLastRank()], run=Run(run_dir))
    learn.fit(resume=True)
    print('rank', learn.rank, 'world', learn.world_size, 'step', learn.step, flush=True)
''')

@pytest.fixture(scope='module')
def script(tmp_path_factory):
    p = tmp_path_factory.mktemp('ddp')/'train_ddp.py'
    p.write_text(SCRIPT)
    return p

def launch(script, run_dir, nproc, bs, stop_at=0):
    "Start the script under torchrun with `nproc` gloo processes (or plainly for 1)."
    run_dir.mkdir(parents=True, exist_ok=True)
    args = [str(script), str(run_dir), str(bs), str(stop_at), str(ROOT)]
    cmd = ([sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}'] if nproc > 1 else [sys.executable]) + args
    env = {**os.environ, 'ORDERVIZ_DEVICE': 'cpu', 'OMP_NUM_THREADS': '1'}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)

def finish(p):
    out, _ = p.communicate(timeout=240)
    assert p.returncode == 0, out[-4000:]
    return out

def rows(run_dir): return [json.loads(l) for l in (run_dir/'metrics.jsonl').read_text().splitlines()]
def ckpt(run_dir): return torch.load(run_dir/'ckpt'/'latest.pt', weights_only=True)

@pytest.fixture(scope='module')
def runs(script, tmp_path_factory):
    "1 process with batch 8; 2 processes with batch 4 each; 2 processes stopped after step 3 (by rank 1 alone) and resumed."
    root = tmp_path_factory.mktemp('runs')
    d1, d2, d3 = root/'one', root/'two', root/'two_resumed'
    p1, p2, p3 = launch(script, d1, 1, 8), launch(script, d2, 2, 4), launch(script, d3, 2, 4, stop_at=3)
    outs = [finish(p1), finish(p2), finish(p3)]
    assert 'step 3' in outs[2] and 'step 9' not in outs[2], outs[2][-2000:]
    assert ckpt(d3)['step'] == 3
    outs.append(finish(launch(script, d3, 2, 4)))
    return d1, d2, d3, outs

def test_ddp_matches_one_process(runs):
    d1, d2, _, outs = runs
    assert 'rank 1 world 2 step 9' in outs[1] and 'rank 0 world 2 step 9' in outs[1]
    c1, c2 = ckpt(d1), ckpt(d2)
    assert c1['step'] == c2['step'] == 9 and c2['sampler']['world_size'] == 2
    for k in c1['model']:
        torch.testing.assert_close(c2['model'][k], c1['model'][k], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(c2['ema'][k], c1['ema'][k], rtol=1e-5, atol=1e-6)
        assert not torch.equal(c1['model'][k], torch.zeros_like(c1['model'][k]))

def test_metrics_averaged_over_ranks_and_written_once(runs):
    d1, d2, _, _ = runs
    r1, r2 = rows(d1), rows(d2)
    assert [r['step'] for r in r2] == [r['step'] for r in r1]   # rank 1 wrote nothing
    for a, b in zip(r1, r2):
        for k in ('loss', 'grad_norm', 'lr', 'valid_loss'):
            if k in a: assert b[k] == pytest.approx(a[k], rel=1e-5, abs=1e-6), (k, a, b)
    assert sum('valid_loss' in r for r in r2) == 2                  # 48 samples / batch 8 = 6 steps per epoch: epoch end + final
    assert json.loads((d2/'run.json').read_text())['status'] == 'done'
    assert sorted(p.name for p in (d2/'ckpt').iterdir()) == ['latest.pt']

def test_ddp_stop_and_resume_is_exact(runs):
    _, d2, d3, _ = runs
    c2, c3 = ckpt(d2), ckpt(d3)
    assert c3['step'] == 9 and len(c3['rng']) == 2
    for k in c2['model']:
        assert torch.equal(c3['model'][k], c2['model'][k]), k
        assert torch.equal(c3['ema'][k], c2['ema'][k]), k
    info = json.loads((d3/'run.json').read_text())
    assert info['status'] == 'done' and len(info['attempts']) == 1
