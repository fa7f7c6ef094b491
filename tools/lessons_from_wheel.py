#!/usr/bin/env python
"""Run every lesson the way a learner gets it in Colab: one notebook alone in an empty folder, with only the wheel.

Snapshots the working tree (others may be editing it), exports the package from that snapshot's notebooks, builds the
wheel, makes a fresh venv pinned to Colab's versions (`.ci/colab-constraints.txt`, as the CI's Colab stack
does: torch and torchvision from this machine's disk, then the wheel with `[test]`), then copies each lesson ALONE to
an empty temporary folder with a fresh HOME and executes it there with Jupyter's own runner (nbconvert), at the smoke
size, one lesson at a time. Prints a table: lesson, seconds, ok/error and the error's last lines.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python tools/lessons_from_wheel.py              # every lesson
    python tools/lessons_from_wheel.py --reuse-venv 07_gradual_unfreezing.ipynb 13_forgetting.ipynb

The venv lives outside the repository (`--venv`, default /tmp/tunelab-lessons-venv). `--reuse-venv` keeps it and only
reinstalls the freshly built wheel. Exit code 1 when a lesson failed.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALL = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb'))

def sh(*cmd, **kw):
    "Run `cmd`, printing it and its output less pip's warnings about this machine's index locations."
    print('$', ' '.join(map(str, cmd)), flush=True)
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    out = [l for l in (r.stdout + r.stderr).splitlines() if 'is ignored: it is neither a file nor a directory' not in l]
    if out: print('\n'.join(out), flush=True)
    if r.returncode: sys.exit(f"failed ({r.returncode}): {' '.join(map(str, cmd))}")

def snapshot(dest:Path) -> Path:
    "Copy the working tree (tracked and untracked, not ignored) to `dest` and export the package from its notebooks there."
    files = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split('\0')
    for f in filter(None, files):
        if (ROOT/f).is_file(): (dest/f).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(ROOT/f, dest/f)
    # the wheel and the lessons from one moment: the package exported from these very notebooks
    subprocess.run([sys.executable, '-c', 'from nbdev.doclinks import nbdev_export; nbdev_export()'], cwd=dest, check=True)
    return dest

def build_wheel(src:Path, outdir:Path) -> Path:
    "Build the wheel of `src` into `outdir`."
    log = outdir/'build.log'
    with open(log, 'w') as f: r = subprocess.run([sys.executable, '-m', 'build', '--wheel', '--outdir', outdir, src],
                                                 stdout=f, stderr=subprocess.STDOUT)
    if r.returncode: sys.exit(log.read_text()[-3000:] + '\nwheel build failed')
    return next(outdir.glob('tunelab-*.whl'))

def make_venv(venv:Path, wheel:Path, reuse:bool):
    "A venv with Colab's pinned versions (as the CI's Colab stack) plus the wheel; nbconvert comes with notebook 6."
    py = venv/'bin'/'python'
    if not (reuse and py.exists()):
        shutil.rmtree(venv, ignore_errors=True)
        sh(sys.executable, '-m', 'venv', venv)
        sh(py, '-m', 'pip', 'install', '-q', '-r', str(ROOT/'.ci'/'torch.txt'))
    sh(py, '-m', 'pip', 'install', '-q', '--force-reinstall', '--no-deps', wheel)
    sh(py, '-m', 'pip', 'install', '-q', f'{wheel}[test]', '-c', ROOT/'.ci'/'colab-constraints.txt')
    sh(py, '-c', "import sys, fastai, fastcore, torch, timm, ipywidgets, nbconvert; print('stack: python', "
                 "sys.version.split()[0], 'fastai', fastai.__version__, 'fastcore', fastcore.__version__, 'torch', "
                 "torch.__version__, 'timm', timm.__version__, 'ipywidgets', ipywidgets.__version__, 'nbconvert', "
                 "nbconvert.__version__)")
    return py

def run_lesson(venv:Path, nbs:Path, name:str, timeout:int, keep:bool) -> tuple:
    "Copy lesson `name` alone to an empty folder and execute it there; returns (seconds, ok, last lines of the error)."
    d = Path(tempfile.mkdtemp(prefix='tunelab_lesson_'))
    home = d/'home'; home.mkdir(); work = d/'work'; work.mkdir()
    shutil.copy(nbs/name, work/name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(('TUNELAB_', 'PYTHON', 'VIRTUAL_ENV', 'JUPYTER'))}
    env.update(HOME=str(home), TUNELAB_SIZE='smoke', MPLBACKEND='Agg', PATH=f"{venv/'bin'}:{env.get('PATH', '')}",
               OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'), MKL_NUM_THREADS=os.environ.get('MKL_NUM_THREADS', '1'))
    cmd = [venv/'bin'/'jupyter', 'nbconvert', '--to', 'notebook', '--execute', f'--ExecutePreprocessor.timeout={timeout}',
           '--ExecutePreprocessor.kernel_name=python3', '--output', 'executed.ipynb', name]
    t = time.perf_counter()
    try:
        r = subprocess.run([str(c) for c in cmd], cwd=work, env=env, capture_output=True, text=True, timeout=timeout + 120)
        out, ok = r.stdout + r.stderr, r.returncode == 0 and (work/'executed.ipynb').exists()
    except subprocess.TimeoutExpired as e:
        dec = lambda b: b.decode(errors='replace') if isinstance(b, bytes) else (b or '')
        out, ok = f"{dec(e.stdout)}{dec(e.stderr)}\ntimed out after {timeout + 120} s", False
    secs = time.perf_counter() - t
    (d/'nbconvert.log').write_text(out)
    err = '' if ok else '\n'.join([l for l in out.splitlines() if l.strip()][-12:])
    if ok and not keep: shutil.rmtree(d, ignore_errors=True)
    elif not ok: err += f"\n(full log: {d/'nbconvert.log'})"
    return secs, ok, err

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('lessons', nargs='*', help='notebook names in nbs/ (default: all)')
    ap.add_argument('--venv', default='/tmp/tunelab-lessons-venv', type=Path)
    ap.add_argument('--reuse-venv', action='store_true', help='keep the venv, only reinstall the new wheel')
    ap.add_argument('--timeout', type=int, default=1800, help='seconds per cell (nbconvert) and per lesson (+120)')
    ap.add_argument('--keep', action='store_true', help='keep the folders of lessons that passed')
    a = ap.parse_args()
    lessons = a.lessons or ALL
    for n in lessons:
        if not (ROOT/'nbs'/n).exists(): sys.exit(f"no lesson nbs/{n}: use one of {ALL}")
    outdir = Path(tempfile.mkdtemp(prefix='tunelab_wheel_'))
    src = snapshot(outdir/'src')                       # others may be editing the checkout: one consistent copy
    wheel = build_wheel(src, outdir); print('wheel:', wheel, '(from a snapshot of the working tree at', src, ')', flush=True)
    make_venv(a.venv, wheel, a.reuse_venv)
    rows = []
    for n in lessons:
        print(f"--- {n} ...", flush=True)
        secs, ok, err = run_lesson(a.venv, src/'nbs', n, a.timeout, a.keep)
        rows.append((n, secs, ok, err))
        print(f"--- {n}: {secs:.0f} s, {'ok' if ok else 'ERROR'}" + ('' if ok else '\n' + err), flush=True)
    print(f"\n| lesson | seconds | result |\n| --- | ---: | --- |")
    for n, secs, ok, err in rows: print(f"| {n} | {secs:.0f} | {'ok' if ok else 'error'} |")
    for n, secs, ok, err in rows:
        if not ok: print(f"\n{n}: error, last lines:\n{err}")
    print(f"\n{sum(r[2] for r in rows)} passed, {sum(not r[2] for r in rows)} failed")
    sys.exit(0 if all(r[2] for r in rows) else 1)

if __name__ == '__main__': main()
