#!/usr/bin/env python
"""Small, atomic edits of notebook JSON for scripts (load, change, save in one go; keep the window short when
several people edit). Import it: `import sys; sys.path.insert(0, 'tools'); from nbedit import *`.

    nb = load('nbs/04_runner.ipynb')
    i = find(nb, 'def run_recipe')          # index of the first cell whose source contains the text
    setsrc(nb, i, new_source)               # replace a cell's source (clears its outputs if code)
    nb['cells'].insert(i+1, code('x = 1'))  # new code cell;  md('# text') for markdown
    save(nb, 'nbs/04_runner.ipynb')
"""
import json, uuid
from pathlib import Path

def load(path): return json.loads(Path(path).read_text(encoding='utf-8'))
def save(nb, path):
    p = Path(path); tmp = p.with_suffix('.ipynb.tmp')
    tmp.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8'); tmp.replace(p)
def src(nb, i) -> str:
    s = nb['cells'][i]['source']; return ''.join(s) if isinstance(s, list) else s
def _lines(text): return text.splitlines(keepends=True)
def setsrc(nb, i, text, keep_outputs=False):
    c = nb['cells'][i]; c['source'] = _lines(text)
    if c['cell_type'] == 'code' and not keep_outputs: c['outputs'], c['execution_count'] = [], None
def code(text): return {'cell_type': 'code', 'execution_count': None, 'id': uuid.uuid4().hex[:8], 'metadata': {}, 'outputs': [], 'source': _lines(text)}
def md(text): return {'cell_type': 'markdown', 'id': uuid.uuid4().hex[:8], 'metadata': {}, 'source': _lines(text)}
def find(nb, text, start=0) -> int:
    for i, c in enumerate(nb['cells'][start:], start):
        if text in src(nb, i): return i
    raise KeyError(f"no cell contains {text!r}")
def find_all(nb, text): return [i for i in range(len(nb['cells'])) if text in src(nb, i)]
