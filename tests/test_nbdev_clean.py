"""`nbdev_clean` with the project's settings keeps what a reader needs and strips what changes on every run: outputs
(figures, tables, printed numbers) and papermill's `parameters` tag stay; execution counts and execution metadata go."""
import json, shutil, subprocess, sys
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parent.parent

def test_clean_keeps_outputs_and_tags(tmp_path):
    shutil.copy(ROOT/'settings.ini', tmp_path/'settings.ini')
    (tmp_path/'nbs').mkdir()
    cell = nbformat.v4.new_code_cell('grid:int=16 # side', execution_count=7,
                                     metadata={'tags': ['parameters'], 'execution': {'iopub.status.busy': '2026-01-01'}, 'papermill': {'duration': 1.0}})
    cell.outputs = [nbformat.v4.new_output('stream', name='stdout', text='34.8%\n'),
                    nbformat.v4.new_output('display_data', data={'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure>'})]
    nb = nbformat.v4.new_notebook(cells=[cell], metadata={'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'},
                                                          'papermill': {'parameters': {}}, 'language_info': {'name': 'python', 'version': '3.11'}})
    nbformat.write(nb, tmp_path/'nbs'/'t.ipynb')
    exe = Path(sys.executable).parent/'nbdev_clean'
    subprocess.run([str(exe) if exe.exists() else 'nbdev_clean', '--fname', 'nbs/t.ipynb'], cwd=tmp_path, check=True, capture_output=True)
    got = json.loads((tmp_path/'nbs'/'t.ipynb').read_text())
    c = got['cells'][0]
    assert c['metadata'] == {'tags': ['parameters']}
    assert c['execution_count'] is None
    assert [o['output_type'] for o in c['outputs']] == ['stream', 'display_data']
    assert c['outputs'][1]['data']['image/png'] == 'iVBORw0KGgo='
    assert 'papermill' not in got['metadata'] and 'language_info' not in got['metadata']
    assert got['metadata']['kernelspec']['name'] == 'python3'
