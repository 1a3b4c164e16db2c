"The record a benchmark leaves for the Performance page (bench/_record.py): whole, valid, and the old one kept on a failed write."
import json, sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'bench'))
from _record import record


def test_record_writes_rows_and_context(tmp_path):
    p = record('bench/sampling.py', [dict(what='x vs y', ratio=1.5, seconds=2.0)], notes='n', out=tmp_path)
    rec = json.loads(p.read_text())
    assert p == tmp_path/'sampling.json' and rec['script'] == 'sampling.py' and rec['notes'] == 'n'
    assert rec['rows'] == [dict(what='x vs y', ratio=1.5, seconds=2.0)] and rec['date'] and rec['machine']
    assert [f.name for f in tmp_path.iterdir()] == ['sampling.json']          # no temporary file left


def test_bad_rows_leave_the_old_record(tmp_path):
    p = record('sampling_official_mar', [dict(what='a', ratio=None, seconds=1.0)], out=tmp_path)
    before = p.read_text()
    with pytest.raises(ValueError, match='every row needs what, ratio and seconds'):
        record('sampling_official_mar', [dict(what='b', ratio=2.0)], out=tmp_path)
    assert p.read_text() == before


def test_failed_write_keeps_the_old_record(tmp_path, monkeypatch):
    p = record('learner', [dict(what='a', ratio=1.0, seconds=1.0)], out=tmp_path)
    before = p.read_text()
    write = Path.write_text
    def disk_full_halfway(self, text, *a, **k):                              # half the text lands, then the disk is full
        write(self, text[: len(text) // 2], *a, **k); raise OSError(28, 'No space left on device')
    monkeypatch.setattr(Path, 'write_text', disk_full_halfway)
    with pytest.raises(OSError): record('learner', [dict(what='b', ratio=2.0, seconds=1.0)], out=tmp_path)
    assert p.read_text() == before and json.loads(before)['rows'][0]['what'] == 'a'
    assert [f.name for f in tmp_path.iterdir()] == ['learner.json']           # the half-written temporary file is removed
