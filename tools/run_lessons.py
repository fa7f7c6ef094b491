#!/usr/bin/env python
"""Execute lesson notebooks in place, as a learner would with "Run all", keeping their outputs (the committed record).

Full-size code is guarded by `if SIZE == 'full'` in the lessons (its one mark), so every cell runs;
the size is whatever `lesson_size()` picks (set TUNELAB_SIZE to choose). The `nbdev_export` cell is skipped.
Afterwards run `nbdev_clean` (ids and metadata) before committing. Each notebook's metadata records what produced its
outputs (`tunelab`: size, commit, machine, torch threads, load average at the end, versions, minutes, date, runs trained, runs
the store held at the start). The lessons of one call share one results store
(`TUNELAB_RESULTS`, a temporary folder unless set), as they do under pytest.

    python tools/run_lessons.py nbs/04_runner.ipynb nbs/05_freezing.ipynb
"""
from __future__ import annotations
import sys, time, os, re
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from fastcore.basics import AttrDict

class LessonShell(CaptureShell):
    "execnb's shell, with Jupyter's meaning of a cell's trailing ';': it hides the cell's value, never what the cell printed."
    # execnb 0.1.16 drops a ';'-ended cell's stdout too: every print of such a cell was missing from the committed outputs
    def _run(self, raw_cell, store_history=False, silent=False, shell_futures=True, cell_id=None,
             stdout=True, stderr=True, display=True, verbose=False):
        with capture_output(display=display, stdout=stdout and not verbose, stderr=stderr and not verbose) as c:
            result = InteractiveShell.run_cell(self, raw_cell, store_history, silent, shell_futures=shell_futures, cell_id=cell_id)
        return AttrDict(result=result, stdout=c.stdout, stderr=c.stderr, display_objects=c.outputs,
                        exception=result.error_in_exec or result.error_before_exec, quiet=raw_cell.rstrip().endswith(';'))

_BAR = re.compile(r'█?\s*\|[█\-]*\|\s*\d+\.\d+% \[[^\]\n]*\]?')   # one fastprogress text bar, with its [count time comment]

def _unbarred(seg:str) -> str:
    "A segment of a line without its fastprogress bar (and the spaces that pad the bar out), else as it was."
    t = _BAR.sub('', seg)
    if not t.replace('█', '').strip(): return ''       # only a bar, or the lone '█' a finished bar leaves behind
    return seg if t == seg else t.replace('█', '').lstrip()

def drop_progress_bars(nb):
    "Remove fastprogress's text bars (written with carriage returns outside Jupyter) from stream outputs; keep the rest."
    for c in nb.cells:
        outs = []
        for o in c.get('outputs', []):
            if o.get('output_type') == 'stream':
                text = ''.join(o['text']) if isinstance(o['text'], list) else o['text']
                text = re.sub(r'\x1b\[[0-9;]*[A-Za-z]', '', text)          # terminal escapes (clear-line) of the bars
                lines = []
                for line in text.split('\n'):
                    # a print that follows a bar on its line (the bar ends without a newline) is kept: only the bar goes
                    segs = [t for g in line.split('\r') if (t := _unbarred(g)).strip()]
                    if segs: lines.append(segs[-1])
                    elif not line.strip(): lines.append('')
                text = '\n'.join(lines).strip('\n')
                if not text: continue
                o['text'] = text + '\n'
            outs.append(o)
        if 'outputs' in c: c['outputs'] = outs
    return nb

WIDGET, WIDGET_NOTE = 'application/vnd.jupyter.widget-view+json', 'An interactive widget: run the cell (after the cells above it) to use it.'

def widget_notes(nb):
    "A widget's saved output without its repr (a page of `VBox(children=(...Image(value=b'...` text before the cell runs): a note."
    for c in nb.cells:
        for o in c.get('outputs', []):
            if WIDGET in o.get('data', {}): o['data']['text/plain'] = WIDGET_NOTE
    return nb

def _sources(nb): return [(c.cell_type, c.source) for c in nb.cells]

LESSON_BUDGET, COURSE_BUDGET = 20, 180     # minutes at the evidence size on 2 CPU cores (the brief's budget)

def finished_runs(since:float=0.) -> int:
    "Finished runs in the shared results store (`TUNELAB_RESULTS`) whose last update is at or after time `since`."
    import sqlite3
    db_path = Path(os.environ['TUNELAB_RESULTS'])/'results.sqlite'
    if not db_path.exists(): return 0
    with sqlite3.connect(db_path, timeout=30) as db:
        return db.execute("SELECT COUNT(*) FROM runs WHERE status='done' AND updated >= ?", (since,)).fetchone()[0]

def run(path:Path) -> float|None:
    "Run notebook `path` in place; its minutes, or None when it changed on disk meanwhile (outputs not written)."
    nb = read_nb(path)
    before = _sources(nb)
    t, t_wall, held = time.perf_counter(), time.time(), finished_runs()
    cwd = os.getcwd(); os.chdir(path.parent)
    try: LessonShell(path=path.parent).run_all(nb, exc_stop=True, preproc=lambda c: 'nbdev_export(' in c.source)
    finally: os.chdir(cwd)
    if _sources(read_nb(path)) != before:       # someone edited it meanwhile: keep their edit, run it again later
        print(f"{path}: changed on disk while it ran; outputs NOT written (run it again)", flush=True); return
    rec = nb.metadata['tunelab'] = dict(run_record(time.perf_counter() - t), runs_trained=finished_runs(t_wall), store_held=held)
    if held: rec['note'] = ("the shared results store held store_held finished runs at the start: any this notebook needed "
                            "were read back, not trained, so minutes may be less than a cold run takes")
    write_nb(widget_notes(drop_progress_bars(nb)), path)
    minutes = (time.perf_counter() - t) / 60
    print(f"{path}: ran in {minutes:.1f} min at the {rec['size']} size; {rec['runs_trained']} run(s) trained, "
          f"the store held {held} finished run(s) at the start"
          + (f" (over the evidence budget of {LESSON_BUDGET} min)" if minutes > LESSON_BUDGET else ''), flush=True)
    return minutes

def run_record(seconds:float) -> dict:
    "What produced a notebook's outputs, kept in its metadata (`allowed_metadata_keys = tunelab` keeps it through nbdev_clean)."
    import platform, subprocess, datetime, torch, fastai
    git = lambda *a: subprocess.run(['git', *a], capture_output=True, text=True, cwd=Path(__file__).parent.parent).stdout.strip()
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor()) \
        if Path('/proc/cpuinfo').exists() else platform.processor()
    from tunelab.course import lesson_size
    code_changed = git('status', '--porcelain', '--', 'tunelab')            # the package as committed, or not
    load = round(os.getloadavg()[0], 1) if hasattr(os, 'getloadavg') else None   # at the end: what shared the cores meanwhile
    return dict(size=str(lesson_size(verbose=False)), load_average=load, commit=git('rev-parse', '--short', 'HEAD') + ('+changes' if code_changed else ''),
                machine=f"{cpu}, {os.cpu_count()} cores", torch_threads=torch.get_num_threads(),
                device='cuda' if torch.cuda.is_available() else 'cpu',
                versions=f"python {platform.python_version()}, torch {torch.__version__}, fastai {fastai.__version__}",
                minutes=round(seconds / 60, 1), date=datetime.date.today().isoformat())

if __name__ == '__main__':
    if sys.argv[1:2] == ['--strip-bars']:     # only clean the bars out of notebooks already run
        for p in sys.argv[2:]: write_nb(drop_progress_bars(read_nb(Path(p))), Path(p))
        sys.exit()
    # every temporary folder of the pass (the cells' `tempfile.mkdtemp`, subprocesses through $TMPDIR) goes under one
    # folder, removed at the end, as under pytest (tests/conftest.py): lessons that keep models would fill /tmp otherwise
    import tempfile, shutil
    tmp = tempfile.mkdtemp(prefix='tunelab_lessons_'); os.environ['TMPDIR'] = tempfile.tempdir = tmp
    # one results store for the pass (`tunelab.course.lesson_out`): a run one lesson trained is read back by the next
    if not os.environ.get('TUNELAB_RESULTS'): os.environ['TUNELAB_RESULTS'] = tempfile.mkdtemp(prefix='tunelab_results_')
    load = os.getloadavg()[0] if hasattr(os, 'getloadavg') else 0.
    if load > 1:       # two CPU-bound jobs on 2 cores oversubscribe OpenMP: a lesson's seconds grew 13x that way
        print(f"warning: load average {load:.1f} before the first notebook: another job shares the cores, so the minutes "
              "and seconds this pass records will be inflated (accuracies are not affected); run on a quiet machine", flush=True)
    took = {}
    try:
        for p in sys.argv[1:]: took[p] = run(Path(p))
    finally: shutil.rmtree(tmp, ignore_errors=True)
    done = {p: m for p, m in took.items() if m is not None}
    print(f"\n{len(done)} notebook(s) in {sum(done.values()):.1f} min (course budget {COURSE_BUDGET} min; "
          f"lessons over {LESSON_BUDGET} min: {', '.join(p for p, m in done.items() if m > LESSON_BUDGET) or 'none'})")
    for p, m in took.items(): print(f"  {m:6.1f} min  {p}" if m is not None else f"     not written  {p}")
