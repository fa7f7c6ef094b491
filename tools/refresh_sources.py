#!/usr/bin/env python
"""Refresh the committed output of every lesson cell that is exactly `show_source(A, B, ...)` from the current package.

`show_source` shows the toolkit's code; its output depends on nothing but that code, so after a change to a shown
function (its docstring, a wrapped line) the output can be rewritten without re-running the lesson's experiments:

    python tools/refresh_sources.py           # rewrite stale outputs in place
    python tools/refresh_sources.py --check   # exit 1 if any is stale
"""
import argparse, importlib, json, pkgutil, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
from nbedit import load, save, src

def _resolve(name:str):
    "The object `name` from the tunelab module that exports it (`__all__`)."
    import tunelab
    for m in pkgutil.iter_modules(tunelab.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'tunelab.{m.name}')
        if name in getattr(mod, '__all__', ()): return getattr(mod, name)
    raise KeyError(f"{name}: no tunelab module exports it")

def refresh(path:Path, check:bool=False) -> list:
    "The cells of notebook `path` whose `show_source` output was stale (rewritten unless `check`)."
    from tunelab.course import source_text
    nb, stale = load(path), []
    for i, c in enumerate(nb['cells']):
        m = re.fullmatch(r'show_source\(([\w, ]+)\)\s*', src(nb, i)) if c['cell_type'] == 'code' else None
        if not m or not c.get('outputs'): continue
        want = f"```python\n{source_text(*[_resolve(n.strip()) for n in m[1].split(',')])}\n```"
        for o in c['outputs']:
            md = o.get('data', {}).get('text/markdown')
            if md is None: continue
            if (''.join(md) if isinstance(md, list) else md) != want:
                stale.append(i); o['data']['text/markdown'] = want
    if stale and not check: save(nb, path)
    return stale

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0]); p.add_argument('--check', action='store_true')
    args, bad = p.parse_args(), {}
    for f in sorted((ROOT/'nbs').glob('*.ipynb')):
        if s := refresh(f, args.check): bad[f.name] = s
    for k, v in bad.items(): print(f"{k}: show_source output {'stale' if args.check else 'refreshed'} in cell(s) {v}")
    if args.check and bad: sys.exit(1)
