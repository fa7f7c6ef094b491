#!/usr/bin/env python
"""Check tunelab's widgets (`ReviewWidget`, lesson 09; `AugExplorer`, lesson 10) in a real JupyterLab, in headless Chromium.

Not part of CI (it needs a browser, ~40 s). It writes a small notebook to a temporary folder, starts
JupyterLab on it with a kernel running `--kernel-python` (whose ipywidgets is under test: 8 on the dev stack, 7.7.1 in
the Colab venv), runs the cells in the browser and checks what a learner sees:
  - the ReviewWidget's images lie in a grid of several columns (bounding boxes of the image cells), with captions that
    name each file and its duplicate pair;
  - choosing `delete` in a drop-down and clicking Apply moves the file, the widget says so, and the next cell runs
    without error;
  - the AugExplorer shows its sliders with readable labels and a plot, and *New draw* redraws it;
  - no cell shows an error and no widget failed to render.
Screenshots go to `--out`; the exit status is 0 when every check passed, 1 otherwise.

One-time set-up (Debian; never `playwright install`: the script drives the system's Chromium). The JupyterLab that runs
the script must match the kernel's ipywidgets: JupyterLab 4 with jupyterlab_widgets 3 renders ipywidgets 8 only (an
ipywidgets 7 kernel fails there with "Module @jupyter-widgets/controls, version ^1.5.0 is not registered"); ipywidgets
7.7.1, Colab's, needs JupyterLab 3 with jupyterlab_widgets 1.x:

    apt-get update && apt-get install -y chromium
    python -m venv .venv-browser  && .venv-browser/bin/pip install jupyterlab playwright ipywidgets                      # ipywidgets 8
    python -m venv .venv-browser7 && .venv-browser7/bin/pip install "jupyterlab<4" "jupyterlab_widgets<2" playwright     # ipywidgets 7

Run from the repository root; `--kernel-python` needs tunelab (the version under test), ipykernel and ipywidgets. About
40 s a run on 2 CPU cores (JupyterLab starts in ~7 s; most of the rest is the kernel importing fastai):

    .venv-browser/bin/python  tools/browser_check.py --out /tmp/widget-shots                  # dev stack: python3, ipywidgets 8
    .venv-browser7/bin/python tools/browser_check.py --out /tmp/widget-shots-colab --kernel-python .venv-colab/bin/python
"""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, secrets, urllib.request
from pathlib import Path

CELLS = [
# 0: the review widget on planted duplicates (a copy of some silhouettes: nothing in the cache is touched)
'''import shutil, tempfile, ipywidgets
from pathlib import Path
from PIL import Image
from tunelab.data import animal_silhouettes
from tunelab.cleaning import find_duplicates, ReviewWidget
print('ipywidgets', ipywidgets.__version__)
sil, folder = animal_silhouettes(200), Path(tempfile.mkdtemp())/'review'
for c in ('cat', 'dog'):
    (folder/c).mkdir(parents=True)
    for k, f in enumerate(sorted((sil/c).iterdir())[:4]):
        shutil.copy(f, folder/c/f.name)
        if k < 3: shutil.copy(f, folder/c/f"copy_{k}.png")                          # exact duplicates
Image.open(folder/'cat'/sorted(p.name for p in (sil/'cat').iterdir())[3]).convert('RGB').resize((24, 24)).save(folder/'dog'/'resaved.jpg', quality=70)
dups = find_duplicates(folder, max_distance=4)
print(len(dups), 'pairs')
review = ReviewWidget(dups, folder, cols=6)
review''',
# 1: the cell after the widget, run after the click
'''assert review.error is None, review.error
assert review.done is not None and len(review.done) == 1, review.done
assert not (folder/review.done.label[0]/review.done.file[0]).exists()
print('NEXT CELL OK:', review.done.file[0], review.done.action[0])''',
# 2: the augmentation explorer
'''from tunelab.data import shapes_dataset, image_dls
from tunelab.augmentation import AugExplorer
raw = image_dls(shapes_dataset('none', n_per_class=30, size=64), size=64, bs=6, aug=False, num_workers=0)
xb, yb = raw.train.one_batch()
ex = AugExplorer(xb.cpu())
ex''',
]

def notebook(cells, kernel_name):
    return dict(nbformat=4, nbformat_minor=5, cells=[dict(cell_type='code', id=f'c{i}', metadata={}, outputs=[], execution_count=None,
                                                           source=c) for i, c in enumerate(cells)],
                metadata=dict(kernelspec=dict(name=kernel_name, display_name=kernel_name, language='python')))

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

class Checks:
    def __init__(self): self.failed, self.passed = [], []
    def __call__(self, ok, what):
        (self.passed if ok else self.failed).append(what)
        print(('  ok    ' if ok else '  FAIL  ') + what, flush=True)
        return ok

def start_lab(root:Path, nb_dir:Path, port:int, token:str, kernel_python:str, log):
    "JupyterLab on `nb_dir`, its config, data and settings in `root` (nothing outside it is touched), one kernel: `kernel_python`."
    kdir = root/'jupyter'/'kernels'/'tunelab-check'; kdir.mkdir(parents=True)
    (kdir/'kernel.json').write_text(json.dumps(dict(argv=[kernel_python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
                                                     display_name='tunelab-check', language='python', env={'MPLBACKEND': 'module://matplotlib_inline.backend_inline'})))
    settings = root/'lab-settings'/'@jupyterlab'/'apputils-extension'; settings.mkdir(parents=True)
    (settings/'notification.jupyterlab-settings').write_text(json.dumps(dict(fetchNews='false', checkForUpdates=False)))
    env = dict(os.environ, JUPYTER_PATH=str(root/'jupyter'), JUPYTER_CONFIG_DIR=str(root/'config'),
               JUPYTER_RUNTIME_DIR=str(root/'runtime'), IPYTHONDIR=str(root/'ipython'))
    env.pop('MPLBACKEND', None)
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--allow-root', '--ip=127.0.0.1', '--no-browser', f'--port={port}',
           f'--ServerApp.token={token}', f'--ServerApp.root_dir={nb_dir}', f'--LabApp.user_settings_dir={root/"lab-settings"}',
           f'--LabApp.workspaces_dir={root/"workspaces"}', '--LabApp.news_url=', '--ServerApp.disable_check_xsrf=True']
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}/api/status?token={token}'
    for _ in range(120):
        if proc.poll() is not None: raise RuntimeError(f"jupyter lab exited with {proc.returncode}: see {log.name}")
        try:
            urllib.request.urlopen(url, timeout=2); return proc
        except Exception: time.sleep(0.5)
    raise RuntimeError(f"jupyter lab did not answer in 60 s: see {log.name}")

def run_cell(page, i, timeout=240):
    "Select cell `i`, run it (Ctrl+Enter) and wait until its prompt shows an execution count."
    cell = page.locator('.jp-Notebook .jp-Cell').nth(i)
    cell.locator('.jp-InputArea-prompt').click()                 # select the cell (command mode), not its editor
    page.keyboard.press('Control+Enter')
    deadline = time.time() + timeout
    while time.time() < deadline:
        prompt = cell.locator('.jp-InputArea-prompt').inner_text()
        if re.search(r'\[\d+\]', prompt): return cell
        time.sleep(0.5)
    raise TimeoutError(f"cell {i} still running after {timeout} s")

def errors_in(cell):
    "Errors a cell shows (tracebacks, exceptions, failed widget renders), as text; warnings on stderr are not errors."
    stderr = [e.inner_text() for e in cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all()]
    res = [t[:500] for t in stderr if re.search(r'Traceback|^\s*\w*(Error|Exception)\b', t, re.M)]
    txt = cell.locator('.jp-Cell-outputArea').inner_text()
    res += [m for m in ('Error displaying widget', 'Traceback', 'model not found', 'Failed to load model class') if m in txt]
    return res

def check(page, out:Path, ok:Checks, timeout:int):
    page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
    page.locator('#jp-main-statusbar').get_by_text('Idle').first.wait_for(timeout=120_000)   # the kernel has started
    # --- the review widget
    cell = run_cell(page, 0, timeout)
    grid = cell.locator('.widget-gridbox')
    grid.first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)                                  # let the images load and the grid lay out
    print('  kernel:', next((l for l in cell.locator('.jp-Cell-outputArea').inner_text().splitlines() if l.startswith('ipywidgets')), '?'), flush=True)
    ok(not errors_in(cell), f"review cell: no error output {errors_in(cell)}")
    boxes = [b for b in (im.bounding_box() for im in grid.locator('img').all()) if b]
    xs, ys = sorted({round(b['x']) for b in boxes}), sorted({round(b['y']) for b in boxes})
    n = grid.locator('select').count()
    print(f'  grid: {len(boxes)} images, {len(xs)} columns at x={xs}, {len(ys)} rows at y={ys}', flush=True)
    ok(len(boxes) == n and n >= 7, f"one image per drop-down ({len(boxes)} images, {n} drop-downs)")
    ok(len(xs) == min(6, n), f"grid has {len(xs)} columns (cols=6)")
    ok(len(ys) == -(-n // 6), f"grid has {len(ys)} rows for {n} images")
    caps = [h.inner_text() for h in grid.locator('.widget-html').all()]
    ok(len(caps) == n and all(re.search(r'^(cat|dog)/\S+\.(png|jpg)\s*\n\s*pair \d+ \((exact|near)', c) for c in caps),
       f"each image has a caption naming its file and pair: {caps[:2]}")
    ok(any('pair 0 (exact): a' in c for c in caps) and any('pair 0 (exact): b' in c for c in caps), "pair 0's two sides are captioned a and b")
    wrap = [c for c in grid.locator('.widget-html').all() if c.evaluate('e => e.scrollWidth > e.clientWidth + 1')]
    ok(not wrap, f"captions fit their cells ({len(wrap)} overflow)")
    widget = cell.locator('.jp-Cell-outputArea > .jp-OutputArea-child').last
    widget.screenshot(path=str(out/'review_widget.png'))
    # choose, as the lesson invites, then Apply
    first = grid.locator('select').first
    first.select_option('delete')
    chosen = caps[0].splitlines()[0].strip()
    cell.locator('button', has_text='Apply').click()
    page.wait_for_timeout(1500)
    txt = cell.locator('.jp-Cell-outputArea').inner_text()
    ok('1 file(s) changed' in txt and chosen.split('/')[-1] in txt, f"Apply reports the change in the widget ({chosen})")
    ok(cell.locator('button', has_text='Apply').is_disabled(), "Apply locks the widget")
    ok(not errors_in(cell), f"no error output after Apply {errors_in(cell)}")
    widget.screenshot(path=str(out/'review_widget_applied.png'))
    # the next cell
    nxt = run_cell(page, 1, timeout)
    ok(not errors_in(nxt) and 'NEXT CELL OK' in nxt.locator('.jp-Cell-outputArea').inner_text(),
       f"the cell after the widget runs: {nxt.locator('.jp-Cell-outputArea').inner_text()[:300]!r}")
    # --- the augmentation explorer
    cell = run_cell(page, 2, timeout)
    cell.locator('.widget-slider').first.wait_for(timeout=60_000)
    cell.locator('.widget-output img').first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    ok(not errors_in(cell), f"explorer cell: no error output {errors_in(cell)}")
    ok(cell.locator('.widget-slider').count() == 6 and cell.locator('.widget-checkbox').count() == 1, "six sliders and a checkbox")
    labels = cell.locator('.widget-slider .widget-label, .widget-slider label').all()
    names = [l.inner_text() for l in labels if l.inner_text().strip()]
    cut = [l.inner_text() for l in labels if l.evaluate('e => e.scrollWidth > e.clientWidth + 1')]
    ok(len(names) >= 6 and not cut, f"slider labels readable, none cut: {names} (cut: {cut})")
    ok('aug_transforms(max_rotate=10' in cell.locator('.widget-html').first.inner_text(), "the code line shows the call")
    img = cell.locator('.widget-output img').first
    ok((img.bounding_box() or {}).get('width', 0) > 300, "the batch is drawn")
    src0 = img.get_attribute('src')
    expl = cell.locator('.jp-Cell-outputArea > .jp-OutputArea-child').last
    expl.screenshot(path=str(out/'aug_explorer.png'))
    cell.locator('button', has_text='New draw').click()
    deadline = time.time() + 60
    while time.time() < deadline and cell.locator('.widget-output img').first.get_attribute('src') == src0: time.sleep(0.5)
    ok(cell.locator('.widget-output img').count() == 1 and cell.locator('.widget-output img').first.get_attribute('src') != src0,
       "New draw redraws the batch (one plot, a new one)")
    ok(not errors_in(cell), f"no error output after New draw {errors_in(cell)}")
    expl.screenshot(path=str(out/'aug_explorer_new_draw.png'))

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True, type=Path, help='folder for the screenshots (and the JupyterLab log)')
    ap.add_argument('--kernel-python', default='python3', help='python that runs the notebook (needs tunelab, ipykernel); default: python3 on PATH')
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--timeout', type=int, default=240, help='seconds a cell may take')
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    t0 = time.time()
    out = a.out.resolve(); out.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run([a.kernel_python, '-c', 'import sys, tunelab, ipykernel, ipywidgets; print(ipywidgets.__version__, sys.executable)'],
                           capture_output=True, text=True)
    if probe.returncode: sys.exit(f"--kernel-python {a.kernel_python} cannot run the check (needs tunelab, ipykernel, ipywidgets):\n{probe.stderr[-800:]}")
    kernel_widgets, kernel_python = probe.stdout.strip().splitlines()[-1].split(' ', 1)
    from importlib.metadata import version
    lab_widgets = version('jupyterlab_widgets')
    if (int(kernel_widgets.split('.')[0]) >= 8) != (int(lab_widgets.split('.')[0]) >= 3):
        sys.exit(f"the kernel has ipywidgets {kernel_widgets} but this JupyterLab has jupyterlab_widgets {lab_widgets}: "
                 "ipywidgets 8 needs jupyterlab_widgets 3, ipywidgets 7 needs 1.x (see the set-up at the top of this script)")
    root = Path(tempfile.mkdtemp(prefix='tunelab-browser-'))
    nb_dir = root/'nbs'; nb_dir.mkdir()
    (nb_dir/'widgets_check.ipynb').write_text(json.dumps(notebook(CELLS, 'tunelab-check'), indent=1))
    port, token, ok = free_port(), secrets.token_hex(16), Checks()
    log = open(out/'jupyterlab.log', 'w')
    proc = start_lab(root, nb_dir, port, token, kernel_python, log)
    print(f"JupyterLab on port {port} ({time.time() - t0:.0f} s); kernel {kernel_python}", flush=True)
    console = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=a.chromium, args=['--no-sandbox', '--disable-dev-shm-usage'])
            page = browser.new_page(viewport=dict(width=1400, height=1000))
            page.on('console', lambda m: console.append(f"{m.type}: {m.text}") if m.type == 'error' else None)
            page.goto(f'http://127.0.0.1:{port}/lab/tree/widgets_check.ipynb?token={token}', timeout=120_000)
            try: check(page, out, ok, a.timeout)
            except Exception as e: ok(False, f"{type(e).__name__}: {e}")
            finally: page.screenshot(path=str(out/'page.png'), full_page=True)
            widget_errors = [c for c in console if re.search(r'widget|model', c, re.I)]
            ok(not widget_errors, f"no widget errors in the browser console {widget_errors[:3]}")
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(20)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
    print(f"{len(ok.passed)} checks passed, {len(ok.failed)} failed in {time.time() - t0:.0f} s; screenshots in {out}")
    sys.exit(1 if ok.failed else 0)

if __name__ == '__main__': main()
