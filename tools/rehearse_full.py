#!/usr/bin/env python
"""Rehearse the full lesson size on the CPU, offline, in a few minutes: the real full-size code path on tiny stand-ins.

No GPU is lent to this project, and the full size (Oxford-IIIT Pets and Imagenette at 160-224 px, timm ResNets,
ConvNeXt, ViT) needs downloads. This script builds, in a temporary folder that it deletes afterwards:
- tiny stand-ins for the full datasets, laid out exactly as fastai's `untar_data` leaves them (`FASTAI_HOME`):
  `oxford-iiit-pet/images/<Breed_name>_<n>.jpg` with the real set's 37 breeds (capitalised = cat) and its
  `annotations/` lists, and `imagenette2-320/{train,val}/<wnid>/*.JPEG` with the 10 real wnids and
  `noisy_imagenette.csv`; a few generated images per class (a per-class colour and shape, so training learns);
- random weights for every full-size backbone the lessons load, in the Hugging Face cache (`HF_HOME`) exactly as
  `timm.create_model(name, pretrained=True)` reads them offline, and in `TORCH_HOME` as torchvision reads them.
Then it executes the lessons with `TUNELAB_SIZE=full`, `TUNELAB_REHEARSAL=1` (smoke's seeds, epochs and items:
`tunelab.course.rehearsal`: the full code path at smoke's counts), `TUNELAB_OFFLINE=1`, `HF_HUB_OFFLINE=1` and every socket connection refused, into
temporary copies (the committed notebooks and their outputs are never touched), and prints a table per notebook.

By default each notebook runs its full-size cells with what they need: the cells that read `SIZE` (full-size code has
one mark, `if SIZE == 'full':`), every later cell that uses what they made, the cells those read from (by name), and every
export/import cell. The other cells do the same at both sizes and run in the README's test command. A notebook with no
full-size cell is listed and skipped (nothing in it differs at the full size). `--all-cells` runs every cell instead (slower). Nothing here is shipped in the package; the user's ~/.fastai, ~/.cache and
~/.cache/tunelab are not read or written.

The cells run in this process with execnb where it can be imported (the dev stack). A Python without execnb (the wheel
with Colab's versions, `.venv-colab`, which has nbconvert and so nbclient and ipykernel) runs them in a Jupyter kernel of
that same Python through nbclient: the same cells, environment, table and exit code; the tunelab tested is the one that
Python imports (the wheel there; the script checks that the kernel imports the same one, and prints where it is).

    OMP_NUM_THREADS=1 python tools/rehearse_full.py                      # every lesson
    python tools/rehearse_full.py nbs/08_backbones.ipynb --keep         # one lesson; keep the folder to inspect
    OMP_NUM_THREADS=1 .venv-colab/bin/python tools/rehearse_full.py      # on Colab's stack (the wheel, nbclient)
"""
import os, sys, time, argparse, tempfile, shutil, ast, re, json, socket, colorsys, hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in (ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb')) + ['index.ipynb']

# The real sets' classes. Pets: 12 cat breeds (capitalised) and 25 dog breeds (lower case), as in the real file names.
PETS_CATS = ['Abyssinian', 'Bengal', 'Birman', 'Bombay', 'British_Shorthair', 'Egyptian_Mau', 'Maine_Coon', 'Persian',
             'Ragdoll', 'Russian_Blue', 'Siamese', 'Sphynx']
PETS_DOGS = ['american_bulldog', 'american_pit_bull_terrier', 'basset_hound', 'beagle', 'boxer', 'chihuahua',
             'english_cocker_spaniel', 'english_setter', 'german_shorthaired', 'great_pyrenees', 'havanese', 'japanese_chin',
             'keeshond', 'leonberger', 'miniature_pinscher', 'newfoundland', 'pomeranian', 'pug', 'saint_bernard', 'samoyed',
             'scottish_terrier', 'shiba_inu', 'staffordshire_bull_terrier', 'wheaten_terrier', 'yorkshire_terrier']
IMAGENETTE_WNIDS = ['n01440764', 'n02102040', 'n02979186', 'n03000684', 'n03028079', 'n03394916', 'n03417042',
                    'n03425413', 'n03445777', 'n03888605']
# Every backbone a full-size cell loads with pretrained weights (02_models, 08_backbones); torchvision's by model name.
TIMM_ARCHS = ['resnet18', 'resnet34', 'resnet50', 'convnext_tiny', 'vit_small_patch16_224']
TORCHVISION_ARCHS = ['resnet18']

def rehearsal_env(tmp:Path) -> dict:
    "The environment of a rehearsal: every cache in `tmp`, the full size, offline."
    return dict(TUNELAB_SIZE='full', TUNELAB_REHEARSAL='1', TUNELAB_OFFLINE='1', HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1',
                FASTAI_HOME=str(tmp/'fastai'), HF_HOME=str(tmp/'hf'), HF_HUB_CACHE=str(tmp/'hf'/'hub'),
                TORCH_HOME=str(tmp/'torch'), TUNELAB_HOME=str(tmp/'tunelab'), TUNELAB_RESULTS=str(tmp/'results'),
                MPLBACKEND='Agg', PYTHONWARNINGS='ignore::DeprecationWarning')

# ---------------------------------------------------------------------------------------------------- stand-in data
def _image(i:int, n_classes:int, w:int, h:int, rng):
    "A generated photo-like image of class `i`: a shape and hue of its own on a noisy background."
    from PIL import Image, ImageDraw
    import numpy as np
    bg = rng.integers(60, 200, 3)
    a = np.clip(rng.normal(bg, 25, (h, w, 3)), 0, 255).astype('uint8')
    im = Image.fromarray(a)
    col = tuple(int(255*v) for v in colorsys.hsv_to_rgb(i / n_classes, 0.9, 0.95))
    r = min(w, h) * rng.uniform(0.25, 0.4)
    cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
    n = 3 + i % 5                                               # a polygon with 3-7 corners, and the hue, per class
    pts = [(cx + r*np.cos(2*np.pi*k/n + i), cy + r*np.sin(2*np.pi*k/n + i)) for k in range(n)]
    ImageDraw.Draw(im).polygon(pts, fill=col)
    return im

def make_pets(root:Path, n_per_breed:int=2, seed:int=0) -> Path:
    "`root/oxford-iiit-pet` as `untar_data(URLs.PETS)` leaves it: `images/` (plus the real set's odd files) and `annotations/`."
    import numpy as np
    rng, path = np.random.default_rng(seed), root/'oxford-iiit-pet'
    (path/'images').mkdir(parents=True); (path/'annotations'/'trimaps').mkdir(parents=True); (path/'annotations'/'xmls').mkdir()
    breeds, lines = PETS_CATS + PETS_DOGS, []
    for b in sorted(breeds, key=str.lower):
        i = breeds.index(b)
        for k in range(1, n_per_breed + 1):
            im = _image(i, len(breeds), int(rng.integers(200, 500)), int(rng.integers(200, 500)), rng)
            if b == 'Egyptian_Mau' and k == 1: im = im.convert('L')          # the real set has greyscale and CMYK JPEGs
            if b == 'Abyssinian' and k == 1: im = im.convert('CMYK')
            im.save(path/'images'/f"{b}_{k}.jpg", quality=85)
            lines.append(f"{b}_{k} {i+1} {1 if b in PETS_CATS else 2} {i+1}")
    (path/'images'/'Abyssinian_100.mat').write_bytes(b'MATLAB 5.0 MAT-file')     # not an image: the real folder has three
    head = "#Image CLASS-ID SPECIES BREED ID\n#ID: 1:37 Class ids\n#SPECIES: 1:Cat 2:Dog\n#BREED ID: 1-25:Cat 1:12:Dog\n"
    (path/'annotations'/'list.txt').write_text(head + '\n'.join(lines) + '\n')
    (path/'annotations'/'trainval.txt').write_text('\n'.join(lines[::2]) + '\n')
    (path/'annotations'/'test.txt').write_text('\n'.join(lines[1::2]) + '\n')
    return path

def make_imagenette(root:Path, name:str='imagenette2-320', n_train:int=4, n_val:int=2, seed:int=1) -> Path:
    "`root/<name>` as `untar_data(URLs.IMAGENETTE_320)` leaves it: `train/` and `val/` with the 10 wnid folders, the csv."
    import numpy as np
    rng, path, short = np.random.default_rng(seed), root/name, int(name.split('-')[-1]) if '-' in name else 400
    rows = ['path,noisy_labels_0,noisy_labels_1,noisy_labels_5,noisy_labels_25,noisy_labels_50,is_valid']
    for split, n in (('train', n_train), ('val', n_val)):
        for i, w in enumerate(IMAGENETTE_WNIDS):
            (path/split/w).mkdir(parents=True)
            for k in range(n):
                fn = f"{split}/{w}/{w}_{k:05d}.JPEG" if split == 'train' else f"{split}/{w}/ILSVRC2012_val_{i*100+k:08d}.JPEG"
                _image(i, 10, int(short*rng.uniform(1.0, 1.5)), short, rng).save(path/fn, quality=85)
                rows.append(f"{fn},{w},{w},{w},{w},{w},{split == 'val'}")
    (path/'noisy_imagenette.csv').write_text('\n'.join(rows) + '\n')
    return path

def make_datasets(fastai_home:Path, n_per_breed:int=2) -> dict:
    "Stand-ins for every dataset of `tunelab.data.FULL_DATASETS`, where `untar_data` looks for them."
    from fastai.data.external import fastai_path
    data = fastai_path('data')
    assert Path(data).resolve().is_relative_to(Path(fastai_home).resolve()), f"fastai's data folder {data} is not under {fastai_home}"
    return dict(pets=make_pets(data, n_per_breed), imagenette=make_imagenette(data, 'imagenette2-320'))

# ---------------------------------------------------------------------------------------------------- stand-in weights
def place_timm_weights(archs=TIMM_ARCHS) -> list:
    "Random weights for each timm `arch`, as the Hugging Face cache holds a download: what `pretrained=True` loads offline."
    import timm, torch
    from huggingface_hub import constants
    from safetensors.torch import save_file
    res = []
    for arch in archs:
        model = timm.create_model(arch, pretrained=False)
        cfg = model.pretrained_cfg
        repo, _, rev = cfg['hf_hub_id'].partition('@')
        fname = cfg.get('hf_hub_filename') or 'model.safetensors'
        commit = hashlib.sha1(repo.encode()).hexdigest()                      # a commit hash, as the hub names snapshots
        d = Path(constants.HF_HUB_CACHE)/f"models--{repo.replace('/', '--')}"
        (d/'refs').mkdir(parents=True, exist_ok=True)
        (d/'refs'/(rev or 'main')).write_text(commit)
        snap = d/'snapshots'/commit
        snap.mkdir(parents=True, exist_ok=True)
        sd = {k: v.contiguous() for k, v in model.state_dict().items()}
        if fname.endswith('.safetensors'): save_file(sd, snap/fname)
        else: torch.save(sd, snap/fname)
        (snap/'config.json').write_text(json.dumps(dict(architecture=arch, num_classes=cfg.get('num_classes', 1000),
                                                        pretrained_cfg=dict(tag=cfg.get('tag')))))
        res.append(f"{arch} -> {repo}/{fname}")
    return res

def place_torchvision_weights(names=TORCHVISION_ARCHS) -> list:
    "Random weights for each torchvision model `name`, under the file name its DEFAULT weights download to."
    import torch, torchvision
    res, ckpt = [], Path(torch.hub.get_dir())/'checkpoints'
    ckpt.mkdir(parents=True, exist_ok=True)
    for name in names:
        w = torchvision.models.get_model_weights(name).DEFAULT
        torch.save(torchvision.models.get_model(name, weights=None).state_dict(), ckpt/Path(w.url).name)
        res.append(f"torchvision/{name} -> {Path(w.url).name}")
    return res

# ---------------------------------------------------------------------------------------------------- which cells run
_flag = re.compile(r'^\s*#\s*\|\s*([\w-]+)', re.M)

def _code(src:str) -> str: return '\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('!', '%')))

def _names(src:str) -> tuple:
    "(names the cell binds at top level, names it reads anywhere) of a cell's source."
    sys.path.insert(0, str(ROOT/'tools'))
    from make_tests import _top_level_names
    try: tree = ast.parse(_code(src))
    except SyntaxError: return set(), set()
    reads = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return _top_level_names(_code(src)), reads

def full_size_cells(cells:list) -> tuple:
    "(cells to run, the full-size cells among them) for a notebook's code cells, given as sources: see the module doc."
    info = [_names(s) for s in cells]
    flags = [set(_flag.findall(s)) for s in cells]
    def defn(j, n):                                   # the last cell before j that binds n
        return next((i for i in range(j - 1, -1, -1) if n in info[i][0]), None)
    seeds = {j for j, s in enumerate(cells) if ('SIZE' in info[j][1] and 'SIZE' not in info[j][0])}
    tainted = set()
    for j in range(len(cells)):                       # the full-size cells and every later cell that uses what they made
        if j in seeds or any(defn(j, n) in tainted for n in info[j][1]): tainted.add(j)
    always = {j for j, s in enumerate(cells) if flags[j] & {'export', 'exporti', 'exports'} or
              (s.strip() and all(re.match(r'\s*(from \S+ import|import |#|$)', l) for l in _code(s).splitlines()))}
    run, todo = set(), list(tainted | always)
    while todo:                                       # and every cell they read from
        j = todo.pop()
        if j in run: continue
        run.add(j)
        todo += [i for n in info[j][1] if (i := defn(j, n)) is not None and i not in run]
    return sorted(run), sorted(tainted)

# ---------------------------------------------------------------------------------------------------- running
def block_network():
    "Refuse every socket connection but local ones, so a download attempt fails loudly instead of happening."
    orig = socket.socket.connect
    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host.startswith(('127.', '::1', '/')) or host == 'localhost'): return orig(self, address)
        raise OSError(f"tools/rehearse_full.py: network blocked (connection to {address})")
    socket.socket.connect = connect

def _has_execnb() -> bool:
    "Whether execnb (the dev stack's runner) can be imported; else the notebooks run in a Jupyter kernel through nbclient."
    try: import execnb.shell; return True
    except ImportError: return False

def _error(e) -> str: return f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"

def run_notebook(path:Path, dest:Path, env:dict, all_cells:bool=False) -> dict:
    "Execute the notebook at `path` (its full-size cells, or `all_cells`) as a copy in `dest`; a row of the table."
    run_cells = _run_execnb if _has_execnb() else _run_nbclient
    sources = [''.join(c['source']) for c in json.loads(path.read_text(encoding='utf-8'))['cells']
               if c['cell_type'] == 'code' and 'nbdev_export(' not in ''.join(c['source'])]
    if not all_cells and not full_size_cells(sources)[1]:   # nothing differs at the full size: the test command ran it all
        return dict(notebook=path.name, cells=f"0/{len(sources)}", full_cells=0, seconds=0., cpu=0., status='ok',
                    error='', note='no full-size cells (its cells ran in the test command)')
    os.environ.clear(); os.environ.update(env)          # a notebook's cells may change the environment: not for the next one
    t, cpu = time.perf_counter(), time.process_time()
    n, n_code, n_full, kernel_cpu, err = run_cells(path, dest, all_cells)
    return dict(notebook=path.name, cells=f"{n}/{n_code}", full_cells=n_full, seconds=time.perf_counter() - t,
                cpu=time.process_time() - cpu if kernel_cpu is None else kernel_cpu, status='ok' if not err else 'ERROR', error=err)

def _select(sources:list, all_cells:bool) -> tuple:
    "(indices of the cells to run, the full-size cells) among a notebook's code cells, given as sources."
    run, full = full_size_cells(sources)
    return (list(range(len(sources))) if all_cells else run), full

def _run_execnb(path:Path, dest:Path, all_cells:bool) -> tuple:
    "Run the cells in this process with execnb's shell (the dev stack): (cells run, code cells, full-size cells, None, error)."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    nb = read_nb(path)
    code = [c for c in nb.cells if c.cell_type == 'code' and 'nbdev_export(' not in c.source]
    run, full = _select([c.source for c in code], all_cells)
    shell, err, n = CaptureShell(path=dest), '', 0
    cwd = os.getcwd(); os.chdir(dest)
    try:
        for j in run:
            shell.cell(code[j]); n += 1
            if shell.exc:
                err = f"cell {code[j].idx_}: {_error(shell.exc)}"
                break
        size = shell.user_ns.get('SIZE')
        if not err and size is not None and str(size) != 'full': err = f"ran at size {size!r}, not full"
    finally:
        os.chdir(cwd)
        write_nb(nb, dest/path.name)
    return n, len(code), len(full), None, err

KERNEL_NAME = 'tunelab-rehearsal'

def kernel_spec(jupyter_dir:Path) -> Path:
    "A Jupyter kernel spec for the Python that runs this script (its ipykernel), found through `JUPYTER_PATH=jupyter_dir`."
    d = jupyter_dir/'kernels'/KERNEL_NAME
    d.mkdir(parents=True, exist_ok=True)
    (d/'kernel.json').write_text(json.dumps(dict(argv=[sys.executable, '-Xfrozen_modules=off', '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
                                                 display_name=f'tunelab rehearsal ({sys.executable})', language='python')))
    return d

def _kernel_prelude() -> str:
    "What the kernel runs before a notebook's cells: the network blocked, tunelab.core first (as this process does), the CPU clock."
    import inspect
    return '\n'.join(['import socket, time, tunelab, tunelab.core', inspect.getsource(block_network), 'block_network()',
                      '_rehearsal_cpu0 = time.process_time()', 'print(tunelab.__file__)'])

_KERNEL_PROBE = ("import json as _j, time as _t; print(_j.dumps(dict(size=None if globals().get('SIZE') is None else str(SIZE), "
                 "cpu=_t.process_time() - _rehearsal_cpu0)))")

def _run_nbclient(path:Path, dest:Path, all_cells:bool) -> tuple:
    """Run the cells in a Jupyter kernel of this very Python, through nbclient (nbconvert's runner): the stack that has the
    wheel but no execnb (Colab's). (cells run, code cells, full-size cells, the kernel's CPU seconds, error)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(path, as_version=4)
    idx = [i for i, c in enumerate(nb.cells) if c.cell_type == 'code' and 'nbdev_export(' not in c.source]
    run, full = _select([nb.cells[i].source for i in idx], all_cells)
    n, err, kernel_cpu, n_cells = 0, '', None, len(nb.cells)
    def helper(src):                                  # a cell of our own, appended (and removed before the notebook is written)
        nb.cells.append(nbformat.v4.new_code_cell(src))
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
        return ''.join(o.get('text', '') for o in nb.cells[-1].outputs if o.get('output_type') == 'stream' and o.get('name') == 'stdout').strip()
    client = NotebookClient(nb, timeout=3600, kernel_name=KERNEL_NAME, allow_errors=False, resources={'metadata': {'path': str(dest)}})
    try:
        with client.setup_kernel():
            import tunelab
            where = helper(_kernel_prelude()).splitlines()[-1]
            if Path(where).resolve() != Path(tunelab.__file__).resolve():
                raise RuntimeError(f"the kernel imports tunelab from {where}, not from {tunelab.__file__}")
            for j in run:
                try: client.execute_cell(nb.cells[idx[j]], idx[j]); n += 1
                except CellExecutionError as e:
                    n += 1
                    err = f"cell {idx[j]}: {e.ename}: {e.evalue.splitlines()[0][:300] if e.evalue else ''}"
                    break
            probe = json.loads(helper(_KERNEL_PROBE).splitlines()[-1])
            kernel_cpu = probe['cpu']
            if not err and probe['size'] is not None and probe['size'] != 'full': err = f"ran at size {probe['size']!r}, not full"
    except Exception as e: err = err or f"kernel: {_error(e)}"
    finally:
        del nb.cells[n_cells:]
        nbformat.write(nb, dest/path.name)
    return n, len(idx), len(full), kernel_cpu, err

def run_cli(dest:Path, env:dict) -> dict:
    "`tunelab compare --size full` (Imagenette, the command's full-size default) with two epochs; a row of the table."
    from tunelab.cli import main as tunelab_main
    os.environ.clear(); os.environ.update(env)
    t, cpu, err = time.perf_counter(), time.process_time(), ''
    try:
        code = tunelab_main(['compare', '--size', 'full', '--epochs', '2', '--out', str(dest/'cli_out')])
        if code: err = f"exit code {code}"
    except BaseException as e: err = f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"
    return dict(notebook='tunelab compare --size full', cells='-', full_cells=1, seconds=time.perf_counter() - t, cpu=time.process_time() - cpu,
                status='ok' if not err else 'ERROR', error=err)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='*', help=f"notebooks to rehearse (default: every lesson: {', '.join(LESSONS)})")
    p.add_argument('--all-cells', action='store_true', help='run every cell, not only the full-size cells and what they need')
    p.add_argument('--keep', action='store_true', help='keep the temporary folder (stand-ins, executed copies) and print it')
    p.add_argument('--n-per-breed', type=int, default=2, help='stand-in Pets images per breed (default %(default)s)')
    p.add_argument('--no-cli', action='store_true', help="skip `tunelab compare --size full` (run by default)")
    args = p.parse_args()
    nbs = [Path(o).resolve() for o in args.notebooks] or [ROOT/'nbs'/o for o in LESSONS]
    t0, tmp = time.perf_counter(), Path(tempfile.mkdtemp(prefix='tunelab_rehearsal_'))
    env = {**os.environ, **rehearsal_env(tmp)}
    for k in ('TUNELAB_TEST_SIZE', 'HF_TOKEN'): env.pop(k, None)
    execnb = _has_execnb()
    if not execnb:                                      # no execnb (Colab's stack): a kernel of this Python, through nbclient
        env['JUPYTER_PATH'] = os.pathsep.join([str(tmp/'jupyter')] + ([env['JUPYTER_PATH']] if env.get('JUPYTER_PATH') else []))
        kernel_spec(tmp/'jupyter')
    os.environ.update(env)                              # before fastai, huggingface_hub and torch read their settings
    import tunelab.core                                 # first: it quietens the libraries' import-time warnings
    import fastai, fastcore, torch, timm, pandas
    print(f"tunelab from {Path(tunelab.core.__file__).parent}; python {sys.version.split()[0]} ({sys.executable}), fastai {fastai.__version__}, "
          f"fastcore {fastcore.__version__}, torch {torch.__version__}, timm {timm.__version__}, pandas {pandas.__version__}; "
          f"cells run {'in this process with execnb' if execnb else 'in a Jupyter kernel of this Python with nbclient (no execnb)'}", flush=True)
    try:
        block_network()
        sets = make_datasets(tmp/'fastai', args.n_per_breed)
        placed = place_timm_weights() + place_torchvision_weights()
        print(f"rehearsal in {tmp}: stand-ins {', '.join(f'{k} ({sum(1 for _ in v.rglob(chr(42)) if _.is_file())} files)' for k, v in sets.items())}; "
              f"weights {'; '.join(placed)} ({time.perf_counter() - t0:.0f} s)", flush=True)
        dest = tmp/'nbs'
        shutil.copytree(ROOT/'nbs', dest, ignore=shutil.ignore_patterns('_*', '.*'))
        rows = []
        jobs = [lambda nb=nb: run_notebook(nb, dest, env, args.all_cells) for nb in nbs]
        if not args.no_cli and not args.notebooks: jobs.append(lambda: run_cli(tmp, env))
        for job in jobs:
            rows.append(job())
            r = rows[-1]
            print(f"{r['notebook']:<32} {r['status']:<6} {r['seconds']:6.0f} s ({r['cpu']:.0f} CPU-s)  cells {r['cells']:>7}, full-size {r['full_cells']:>2}"
                  f"{'  ' + r['error'] if r['error'] else ''}{'  ' + r['note'] if r.get('note') else ''}", flush=True)
    finally:
        if args.keep: print(f"kept {tmp}")
        else: shutil.rmtree(tmp, ignore_errors=True)
    total = time.perf_counter() - t0
    print(f"\n| notebook | cells run | full-size cells | seconds | CPU-seconds | status |\n|---|---|---|---|---|---|")
    for r in rows: print(f"| {r['notebook']} | {r['cells']} | {r['full_cells']} | {r['seconds']:.0f} | {r['cpu']:.0f} | {r['status']}{' ' + r['error'] if r['error'] else ''}{' (' + r['note'] + ')' if r.get('note') else ''} |")
    bad = [r['notebook'] for r in rows if r['status'] != 'ok']
    print(f"\nfull-size rehearsal: {len(rows) - len(bad)} of {len(rows)} notebooks ok in {total:.0f} s" + (f"; failed: {', '.join(bad)}" if bad else ''))
    sys.exit(1 if bad else 0)

if __name__ == '__main__': main()
