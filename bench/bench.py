#!/usr/bin/env python
"""tunelab's speed-ups against plain fastai, in one run, with accuracy next to every time.

    python bench/bench.py            # about 5 minutes on 2 idle CPU cores

1. one full training step (EfficientNet-Lite0, 48 px, batch 64): default memory order vs channels-last;
2. the linear-probe recipe (4 epochs) through the runner: cached features vs uncached vs fastai's frozen fit_one_cycle;
3. the default `tunelab compare` job (standard_recipes(4) on animal_silhouettes(200), 48 px, seed 0) before
   (channels_last, feature cache and image memo off: every image opened every epoch, as plain fastai does) and after (tunelab's defaults), plus plain fastai's fine_tune for scale.
4. one grid of 4 runs (full_fine_tune(4), seeds 0-3) in one process with every torch thread vs `workers=2` (two
   processes, one thread each; process start-up inside the timing).
5. the data fingerprint: the version (names, sizes and times: stat calls only) against the content digest (every file's
   bytes), cold in a fresh process and again with its cache, on the calibrated task's 2,000 images, on 20,000, and on
   2,000 files of Imagenette's typical size, beside one epoch of full fine-tuning on the calibrated task.
6. a 20-trial sweep (`run_sweep`: Optuna's TPE and median pruning) of full fine-tuning's rate and augmentation
   against the four standard recipes: its wall time against theirs (one seed each), then its best recipe against them
   on three seeds, judged on 1,500 evaluation images (not part of the default run: `--sections 6`, about 10 minutes).
`--sections 4` runs only the named sections.
Every pair is timed interleaved (A, B, A, B...) so a busy machine slows both alike.
"""
import os, sys, time, tempfile, platform, datetime, shutil, subprocess
from pathlib import Path
import torch
from contextlib import nullcontext
from tunelab.data import animal_silhouettes, image_dls, item_memo, _checked
from tunelab.models import tune_learner
from tunelab.recipes import linear_probe, standard_recipes
from tunelab.runner import run_recipe, run_experiments
from tunelab.reports import final_results
from tunelab.store import ResultStore
from tunelab.features import FeatureCache
from tunelab.speed import train_step_seconds, interleaved, fastai_learner

SIZE, BS, N_PER_CLASS = 48, 64, 200
TARGETS = dict(step=1.6, probe=8.0, compare=2.0)

def step_times(data):
    dls = image_dls(data, size=SIZE, bs=BS, aug=False)
    xb, yb = dls.one_batch()
    net = tune_learner(dls, channels_last=False).model
    return interleaved({'default': lambda: train_step_seconds(net, xb, yb, steps=5, channels_last=False),
                        'channels_last': lambda: train_step_seconds(net, xb, yb, steps=5, channels_last=True)}, rounds=3)

def cold():
    "Forget every opened image, as a fresh process would."
    item_memo.clear(); _checked.clear()

def probe_runs(data, tmp):
    def runner(name, fresh=True, memo=True, **kw):
        def f():
            out = Path(tempfile.mkdtemp(dir=tmp)); st = ResultStore(out/'results.sqlite')
            if fresh: cold()
            start = time.perf_counter()
            with nullcontext() if memo else item_memo.off():
                run_recipe(linear_probe(4), data, 'silhouettes', 0, st, out/'ckpt', img_size=SIZE, bs=BS, quiet=True, **kw)
            res[name].append(float(st.results().accuracy.iloc[-1]))
            return time.perf_counter() - start
        return f
    def fastai_frozen():
        with item_memo.off():                                         # plain fastai: every image opened every epoch
            learn, start = fastai_learner(image_dls(data, size=SIZE, bs=BS, aug=False)), time.perf_counter()
            with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(4, 2e-3)
            secs = time.perf_counter() - start
            res['fastai_frozen'].append(float(learn.validate()[1]))
        return secs
    res = {k: [] for k in ('cached', 'cached_reused', 'uncached', 'uncached_nchw', 'fastai_frozen')}
    shared = FeatureCache(None)
    runner('cached_reused', feature_cache=shared)()                   # computes the features once, outside the timing
    secs = interleaved({'cached': lambda: runner('cached', feature_cache=FeatureCache(None))(),   # features and images: inside the timing
                        'cached_reused': runner('cached_reused', fresh=False, feature_cache=shared),  # another seed/recipe of the comparison
                        'uncached': runner('uncached', feature_cache=False),
                        'uncached_nchw': runner('uncached_nchw', memo=False, feature_cache=False, channels_last=False),
                        'fastai_frozen': fastai_frozen}, rounds=2)
    return secs, {k: v[-1] for k, v in res.items()}

def compare_runs(data, tmp):
    "Each standard recipe before and after, in turn; totals over recipes (the same work as one run_experiments call)."
    secs, acc = {'before': 0., 'after': 0.}, {'before': {}, 'after': {}}
    outs = {k: Path(tempfile.mkdtemp(dir=tmp)) for k in secs}
    kw = {'before': dict(feature_cache=False, channels_last=False), 'after': {}}
    cold()                                                       # 'after' opens the images once, in its first run
    for r in standard_recipes(4):
        for k in ('before', 'after'):
            start = time.perf_counter()
            with item_memo.off() if k == 'before' else nullcontext():
                df = run_experiments([r], {'silhouettes': data}, seeds=[0], out=outs[k], img_size=SIZE, quiet=True, **kw[k])
            secs[k] += time.perf_counter() - start
            acc[k][r.name] = float(final_results(df).accuracy.iloc[0])
    with item_memo.off():                                        # plain fastai, default augmentation, as a user writes it
        learn, start = fastai_learner(image_dls(data, size=SIZE, bs=BS)), time.perf_counter()
        with learn.no_bar(), learn.no_logging(): learn.fine_tune(3, 2e-3)
        secs['fastai_fine_tune'] = time.perf_counter() - start
        acc['fastai_fine_tune'] = float(learn.validate()[1])
    return secs, acc

def worker_runs(data, tmp):
    "The same 4-run grid with workers=1 (this process's threads) and workers=2 (one thread each), twice each, interleaved."
    from dataclasses import replace
    from tunelab.recipes import full_fine_tune
    grid, acc = [replace(full_fine_tune(4), aug='none')], {}
    def run(w):
        def f():
            cold(); out = Path(tempfile.mkdtemp(dir=tmp)); start = time.perf_counter()
            df = run_experiments(grid, {'silhouettes': data}, seeds=[0, 1, 2, 3], out=out, img_size=SIZE, quiet=True, workers=w)
            acc[w] = final_results(df).sort_values('seed').accuracy.tolist()
            return time.perf_counter() - start
        return f
    return interleaved({1: run(1), 2: run(2)}, rounds=2), acc

def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sections', default='1,2,3,4,5', help='comma-separated section numbers to run (default: all)')
    todo = {int(x) for x in ap.parse_args().sections.split(',')}
    t0 = time.perf_counter()
    data, tmp = animal_silhouettes(N_PER_CLASS), Path(tempfile.mkdtemp())
    print(f"# tunelab speed benchmark, {datetime.date.today()}\n")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f} at start\n")
    if 1 in todo: section1(data)
    if 2 in todo: section2(data, tmp)
    if 3 in todo: section3(data, tmp)
    if 4 in todo: section4(data, tmp)
    if 5 in todo: section5(data, tmp)
    if 6 in todo: section6(data, tmp)
    print(f"total benchmark time {time.perf_counter() - t0:.0f} s; load average {os.getloadavg()[0]:.1f} at the end")

def section1(data):
    st = step_times(data)
    r1 = st['default'] / st['channels_last']
    print("## 1. Full training step (EfficientNet-Lite0, 48 px, batch 64, all parameters training)\n")
    print(f"default (NCHW, plain fastai): {st['default']:.3f} s; channels-last: {st['channels_last']:.3f} s "
          f"-> **{r1:.2f}x** (target >= {TARGETS['step']}x: {'met' if r1 >= TARGETS['step'] else 'NOT met'})\n", flush=True)

def section2(data, tmp):
    ps, pa = probe_runs(data, tmp)
    r2, r2f = ps['uncached_nchw'] / ps['cached'], ps['fastai_frozen'] / ps['cached']
    print("## 2. Linear probe, 4 epochs, 1,600 training images (runner; first row: seconds include computing the features)\n")
    print("| path | seconds | accuracy |\n|---|---|---|")
    names = dict(cached='tunelab, cached features (computed in this run)',
                 cached_reused='tunelab, cached features reused (a further seed or probe of the same comparison)', uncached='tunelab, uncached (channels-last)',
                 uncached_nchw='tunelab before (uncached, NCHW, every image opened every epoch)', fastai_frozen="plain fastai, frozen fit_one_cycle (train_bn=True)")
    for k, n in names.items(): print(f"| {n} | {ps[k]:.1f} | {pa[k]:.1%} |")
    print(f"\ncached vs tunelab before: **{r2:.1f}x**; vs uncached channels-last: {ps['uncached'] / ps['cached']:.1f}x; "
          f"vs plain fastai's frozen fit: **{r2f:.1f}x**; "
          f"reused features vs plain fastai's frozen fit: {ps['fastai_frozen'] / ps['cached_reused']:.0f}x\n"
          f"(target >= {TARGETS['probe']}x against plain fastai's frozen fit, features computed in the run: "
          f"{'met' if r2f >= TARGETS['probe'] else 'NOT met'})\n", flush=True)

def section3(data, tmp):
    cs, ca = compare_runs(data, tmp)
    r3 = cs['before'] / cs['after']
    print("## 3. `tunelab compare` default job: standard_recipes(4), animal_silhouettes(200), 48 px, seed 0\n")
    print("| recipe | accuracy before | accuracy after |\n|---|---|---|")
    for k in ca['before']: print(f"| {k} | {ca['before'][k]:.1%} | {ca['after'][k]:.1%} |")
    gap = max(abs(ca['before'][k] - ca['after'][k]) for k in ca['before'])
    print(f"\nbefore (channels_last, feature cache and image memo off): {cs['before']:.0f} s; after (defaults): {cs['after']:.0f} s -> **{r3:.2f}x** "
          f"(target >= {TARGETS['compare']}x at equal accuracy ±1 point: "
          f"{'met' if r3 >= TARGETS['compare'] and gap <= 0.01 else 'NOT met'}; largest accuracy change {gap*100:.1f} points)")
    print(f"plain fastai fine_tune(3) (4 epochs, default augmentation): {cs['fastai_fine_tune']:.0f} s, "
          f"accuracy {ca['fastai_fine_tune']:.1%}; tunelab's fine_tune recipe after: accuracy {ca['after']['fine_tune']:.1%}\n")

def section4(data, tmp):
    ws, wa = worker_runs(data, tmp)
    gap = max(abs(a - b) for a, b in zip(wa[1], wa[2]))
    print(f"## 4. One grid of 4 runs (full_fine_tune(4), no augmentation, seeds 0-3), one process vs two workers\n")
    print(f"one process, {torch.get_num_threads()} threads: {ws[1]:.0f} s; workers=2, one thread each: {ws[2]:.0f} s -> "
          f"**{ws[1] / ws[2]:.2f}x** (largest accuracy difference between the two: {gap*100:.1f} points, from the thread count)\n")

def digest_times(folder:Path) -> dict:
    "Seconds for `data_fingerprint`, then `content_digest` twice (reading every file, then from its cache), in a fresh process."
    code = ("import time; from pathlib import Path; from tunelab.runner import data_fingerprint; "
            "from tunelab.data import content_digest, image_files\n"
            f"p = Path({str(folder)!r}); files = image_files(p)[0]; ts = []\n"
            "for f in (data_fingerprint, content_digest, content_digest):\n"
            "    t = time.perf_counter(); f(p, files); ts.append(time.perf_counter() - t)\n"
            "print(*ts, len(files), sum(Path(f).stat().st_size for f in files))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    return dict(version=float(out[0]), digest=float(out[1]), cached=float(out[2]), files=int(out[3]), mb=int(out[4]) / 1e6)

def section5(data, tmp):
    big = tmp/'big20k'                                       # the 2,000 images ten times over, under other names
    for k in range(10):
        for f in Path(data).rglob('*.png'): (big/f.parent.name).mkdir(parents=True, exist_ok=True); shutil.copy(f, big/f.parent.name/f"{k}_{f.name}")
    heavy = tmp/'heavy'                                      # 2,000 files of 110 kB, Imagenette-320's typical JPEG size
    for i in range(2000): (heavy/f"c{i % 10}").mkdir(parents=True, exist_ok=True); (heavy/f"c{i % 10}"/f"{i}.jpg").write_bytes(os.urandom(110_000))
    step = step_times(data)['channels_last']                 # one full fine-tuning step at batch 64, channels-last
    epoch = step * (int(0.8 * 2000) // BS)                   # the calibrated task's training epoch (validation not counted)
    print("## 5. Data fingerprint: the version (stat calls) against the content digest (every file's bytes)\n")
    print(f"files written just before (in the OS page cache: the hashing is timed, not the disk); one epoch of full fine-tuning "
          f"on the calibrated task is about {epoch:.1f} s here ({int(0.8 * 2000) // BS} steps of {step:.3f} s)\n")
    print("| folder | files | MB | version (s) | content digest, first (s) | again, cached (s) | first digest / one epoch of as many images |\n|---|---|---|---|---|---|---|")
    for name, folder in (('calibrated task, silhouettes 48 px', data), ('20,000 silhouettes', big), ('2,000 files of 110 kB', heavy)):
        d = digest_times(folder)
        ep = epoch * d['files'] / 2000       # an epoch over this many images at the calibrated task's cost per image (48 px)
        print(f"| {name} | {d['files']:,} | {d['mb']:.0f} | {d['version']:.3f} | {d['digest']:.3f} | {d['cached']:.3f} | {d['digest'] / ep:.1%} |")
    print()

def section6(data, tmp, trials:int=20):
    "A sweep of full fine-tuning's rate and augmentation with pruning, against the four standard recipes."
    from tunelab.sweep import run_sweep, sweep_vs_standard
    from tunelab.recipes import full_fine_tune
    from tunelab.data import silhouette_evaluation
    from tunelab.reports import summarise, paired_verdict
    out, space = Path(tempfile.mkdtemp(dir=tmp)), {'lr': (1e-4, 3e-2), 'aug': ['default', 'none']}
    cold(); t = time.perf_counter()
    run_experiments(standard_recipes(4), {'silhouettes': data}, seeds=[0], out=out/'standard', img_size=SIZE, quiet=True)
    t_std = time.perf_counter() - t
    cold(); t = time.perf_counter()
    res = run_sweep(data, space, base=full_fine_tune(4), trials=trials, out=out/'sweep', dataset='silhouettes', img_size=SIZE)
    t_sweep = time.perf_counter() - t
    tab = res.table
    df = sweep_vs_standard(res, data, seeds=[0, 1, 2], dataset='silhouettes', out=out/'sweep', img_size=SIZE, quiet=True,
                           evaluation=silhouette_evaluation(150, train_per_class=N_PER_CLASS))
    summ = summarise(df).reset_index().set_index('recipe')
    std = [r.name for r in standard_recipes(4)]
    best_std = summ.loc[std].evaluation.idxmax()
    v_best, v_ft = (paired_verdict(df, res.recipe.name, b) for b in (best_std, 'fine_tune'))
    print(f"## 6. A {trials}-trial sweep against the standard recipes (full_fine_tune(4) searched over "
          f"{', '.join(f'{k} {v}' for k, v in space.items())}; silhouettes {N_PER_CLASS} per class, {SIZE} px)\n")
    print(f"trials: {', '.join(f'{n} {o}' for o, n in tab.outcome.value_counts().items())}; epochs trained "
          f"{int(tab.epochs_run.sum())} of {trials * 4} (pruning saved {1 - tab.epochs_run.sum() / (trials * 4):.0%})")
    print(f"chosen on the validation split: {res.recipe.description} ({res.value:.1%})\n")
    print(f"wall time: the four standard recipes, one seed: {t_std:.0f} s; the sweep: {t_sweep:.0f} s -> "
          f"**{t_sweep / t_std:.1f}x** (target <= 3x: {'met' if t_sweep <= 3 * t_std else 'NOT met'})\n")
    print("| recipe | validation, mean of 3 seeds | evaluation (1,500 images), mean of 3 seeds |\n|---|---|---|")
    for r, row in summ.sort_values('evaluation', ascending=False).iterrows():
        print(f"| {r} | {row.accuracy:.1%} | {row.evaluation:.1%} ± {row.eval_ci95:.1%} |")
    ok = v_best['lo'] > 0 or v_best['hi'] >= 0      # ahead, or not established behind: "at least as good, within its spread"
    print(f"\nbest standard recipe on the evaluation set: {best_std}. {v_best['line']}\n{v_ft['line']}\n"
          f"(target: at least as good as the best standard recipe within its spread: {'met' if ok else 'NOT met'}; the "
          "standard recipes ran at their default rates, the swept one at the rate the sweep chose)\n", flush=True)

if __name__ == '__main__': main()
