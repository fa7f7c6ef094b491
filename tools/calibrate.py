#!/usr/bin/env python
"""Calibrate the course's lesson task: is there something for fine-tuning to show, measured as the lessons must measure?

For each candidate task (data, images per class, image size, epochs) it trains, through tunelab's runner, with the
same augmentation on every side:
- the linear probe (`linear_probe`: head only, frozen body and BatchNorm, cached features),
- full fine-tuning (`full_fine_tune`: every layer from the first step, one rate), to a plateau,
- the same network from random weights (`from_scratch`),
scores every run on an **evaluation set** of other images of the same classes (the runner's `evaluation=`: never used
for a choice; the runner's own 20% validation split is what a lesson would choose epochs and rates on), and prints one table row per
candidate with the checks the lessons need:

  (a) pretrained beats scratch by >= 10 points;  (b) the best fine-tuning beats the probe by more than 3x the seed range;
  (c) the curves are flat at the end (validation accuracy over the last 3 epochs moves < 1 point, mean of seeds);
  (d) the evaluation set has >= 1,000 images and shares none with the training folder;
  (e) the candidate's runs fit a lesson's budget (<= 20 minutes on this machine).

Everything goes to a temporary folder removed at the end (`--out` keeps the results store). The runs go to two worker
processes with one torch thread each (`run_experiments(..., workers=2)`; bench/RESULTS.md, section 4). Candidates with
`factors` give the probe and full fine-tuning each its own rate (`run_at_own_rates`, chosen on the validation split).

    python tools/calibrate.py                      # every candidate (about 15 minutes on 2 cores)
    python tools/calibrate.py --only few-shot      # candidates whose name contains the text
"""
import argparse, os, shutil, sys, tempfile, time
from pathlib import Path
import pandas as pd

# name, images per class (train + validation), evaluation images per class, image size, epochs, seeds[, ft_lr, bs,
# factors: each recipe at its own rate, every stage's rates times each factor on the first seed, chosen on validation]
CANDIDATES = [
    dict(name='silhouettes 200/class, 48 px', n=200, n_eval=150, size=48, epochs=12, seeds=[0, 1, 2]),
    dict(name='silhouettes 10/class (few-shot), 48 px', n=10, n_eval=150, size=48, epochs=12, seeds=[0, 1, 2]),
    # few-shot at lower rates than full fine-tuning's default (at 1e-3 its seeds spread 11.9 points there)
    dict(name='silhouettes 10/class (few-shot), 48 px, fine-tune lr 1e-4', n=10, n_eval=150, size=48, epochs=12,
         seeds=[0, 1, 2], ft_lr=1e-4),
    dict(name='silhouettes 10/class (few-shot), 48 px, fine-tune lr 3e-4', n=10, n_eval=150, size=48, epochs=12,
         seeds=[0, 1, 2], ft_lr=3e-4),
    # few-shot with more steps (batch 8: 10 steps an epoch, 30 epochs) and each side at its own rate (x0.3, x1, x3)
    dict(name='silhouettes 10/class (few-shot), 48 px, batch 8, 30 epochs, own rates', n=10, n_eval=150, size=48,
         epochs=30, seeds=[0, 1, 2], bs=8, factors=(0.3, 1, 3)),
    dict(name='silhouettes 20/class (few-shot), 48 px, batch 16, 20 epochs, own rates', n=20, n_eval=150, size=48,
         epochs=20, seeds=[0, 1, 2], bs=16, factors=(0.3, 1, 3)),
]
CHECKS = dict(pretrain_gap=0.10, seed_ranges=3, flat_points=0.01, eval_images=1000, budget_s=20 * 60)

def calibrate(c:dict, work:Path) -> dict:
    "Train and score one candidate; its row of the table."
    from dataclasses import replace
    from tunelab.data import animal_silhouettes, silhouette_evaluation
    from tunelab.recipes import linear_probe, full_fine_tune, from_scratch
    from tunelab.runner import run_experiments
    from tunelab.reports import final_results, run_at_own_rates
    data = animal_silhouettes(c['n'], dest=work/'data')
    ev = silhouette_evaluation(c['n_eval'], train_per_class=c['n'], dest=work/'data')   # other silhouettes: never chosen on
    e, out = c['epochs'], work/'out'
    recipes = {'probe': replace(linear_probe(e), aug='none'), 'fine-tune': replace(full_fine_tune(e, lr=c.get('ft_lr', 1e-3)), aug='none'),
               'scratch': replace(from_scratch(e), aug='none')}
    t = time.perf_counter()
    kw = dict(out=out, img_size=c['size'], bs=c.get('bs'), quiet=True, evaluation={'task': ev}, workers=2)   # two one-thread workers
    pair = [recipes['probe'], recipes['fine-tune']]
    if c.get('factors'):                                   # each at its own rate, chosen on the validation split
        own = run_at_own_rates(pair, {'task': data}, seeds=c['seeds'], factors=c['factors'], **kw)
        base = lambda n: next(r.name for r in pair if n == r.name or n.startswith(r.name + '-lrx'))
        own = own.assign(recipe=own.recipe.map(base))    # the table's rows by recipe, whatever rate each was given
    else: own = run_experiments(pair, {'task': data}, seeds=c['seeds'], **kw)
    df = pd.concat([own, run_experiments([recipes['scratch']], {'task': data}, seeds=c['seeds'][:1], **kw)])
    seconds = time.perf_counter() - t
    f = final_results(df)
    by_name = {r.name: k for k, r in recipes.items()}
    rows = [dict(way=by_name[r.recipe], seed=r.seed, evaluation=r.evaluation) for r in f.itertuples()]
    acc = pd.DataFrame(rows)
    curve = df.pivot_table(index=['recipe', 'seed'], columns='epoch', values='accuracy')
    flat = {by_name[k]: float((g.iloc[:, -1] - g.iloc[:, -3]).mean()) for k, g in curve.groupby(level='recipe')}
    mean, rng = acc.groupby('way').evaluation.mean(), acc.groupby('way').evaluation.agg(lambda s: s.max() - s.min())
    n_eval = sum(1 for _ in ev.rglob('*.png'))   # disjoint from the training folder: checked by run_experiments
    ft_gap, spread = mean['fine-tune'] - mean['probe'], max(rng['fine-tune'], rng['probe'])
    return {'task': c['name'], 'epochs': e, 'probe': mean['probe'], 'probe range': rng['probe'],
            'fine-tune': mean['fine-tune'], 'fine-tune range': rng['fine-tune'], 'scratch (1 seed)': mean['scratch'],
            'evaluation images': n_eval, 'minutes': seconds / 60,
            '(a) pretrained - scratch >= 10': mean['fine-tune'] - mean['scratch'] >= CHECKS['pretrain_gap'],
            '(b) fine-tune - probe > 3x range': ft_gap > CHECKS['seed_ranges'] * spread,
            '(c) flat at the end': all(abs(v) < CHECKS['flat_points'] for k, v in flat.items() if k != 'scratch'),
            '(d) evaluation >= 1,000, disjoint': n_eval >= CHECKS['eval_images'],
            '(e) <= 20 minutes': seconds <= CHECKS['budget_s'],
            'last-3-epoch change': ', '.join(f"{k} {v*100:+.1f}" for k, v in flat.items())}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', default='', help='run only candidates whose name contains this text')
    ap.add_argument('--out', type=Path, help='keep the data and results stores here (default: a temporary folder, removed)')
    args = ap.parse_args()
    import torch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} core(s), "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for c in CANDIDATES:
        if args.only not in c['name']: continue
        work = args.out/c['name'].split(',')[0].replace(' ', '_').replace('/', '_') if args.out else Path(tempfile.mkdtemp(prefix='tunelab_calibrate_'))
        try: rows.append(calibrate(c, work))
        finally:
            if not args.out: shutil.rmtree(work, ignore_errors=True)
        r = rows[-1]
        print(f"{r['task']}: probe {r['probe']:.1%}, fine-tune {r['fine-tune']:.1%}, scratch {r['scratch (1 seed)']:.1%} "
              f"({r['minutes']:.1f} min)", flush=True)
    t = pd.DataFrame(rows).set_index('task')
    pct = ['probe', 'probe range', 'fine-tune', 'fine-tune range', 'scratch (1 seed)']
    t[pct] = (t[pct] * 100).round(1)
    t['minutes'] = t['minutes'].round(1)
    print(t.T.to_markdown() if hasattr(t, 'to_markdown') and _has_tabulate() else t.T.to_string())
    ok = t.filter(like=') ').all(axis=1)
    print("chosen: " + (', '.join(ok[ok].index) if ok.any() else "no candidate meets (a)-(e)"))

def _has_tabulate() -> bool:
    try: import tabulate; return True
    except ImportError: return False

if __name__ == '__main__': main()
