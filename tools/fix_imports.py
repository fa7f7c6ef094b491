#!/usr/bin/env python
"""Rewrite `from tunelab.runner import a, b` in the notebooks (and bench/) so each name comes from the module that
defines it (runner, store, checkpoint, features, reports). Run after a name moves between modules."""
import re, sys, importlib, glob
sys.path.insert(0, 'tools'); from nbedit import load, save, src, setsrc
MODS = ['runner', 'store', 'checkpoint', 'features', 'reports']
home = {}
for m in MODS:
    mod = importlib.import_module(f'tunelab.{m}')
    for n in list(getattr(mod, '__all__', [])) + [k for k in vars(mod) if k.startswith('_') and not k.startswith('__')]:
        if getattr(getattr(mod, n, None), '__module__', f'tunelab.{m}') == f'tunelab.{m}' or n in getattr(mod, '__all__', []):
            home.setdefault(n, m)
PAT = re.compile(r"from (tunelab|\.)\.?runner import (\([^)]*\)|[^\n]*)")
def fix(text):
    def rep(mt):
        pkg = 'tunelab.' if mt.group(1) == 'tunelab' else '.'
        names = [n.strip() for n in re.sub(r'#[^\n]*', '', mt.group(2).strip('()')).replace('\n', ' ').split(',') if n.strip()]
        by = {}
        for n in names: by.setdefault(home.get(n, 'runner'), []).append(n)
        return '\n'.join(f"from {pkg}{m} import {', '.join(v)}" for m, v in by.items())
    return PAT.sub(rep, text)
changed = []
for p in sorted(glob.glob('nbs/*.ipynb')):
    nb = load(p); hit = False
    for i in range(len(nb['cells'])):
        s = src(nb, i)
        if 'runner import' in s:
            t = fix(s)
            if t != s: setsrc(nb, i, t, keep_outputs=True); hit = True
    if hit: save(nb, p); changed.append(p)
for p in glob.glob('bench/*.py'):
    s = open(p).read(); t = fix(s)
    if t != s: open(p, 'w').write(t); changed.append(p)
print('\n'.join(changed))
