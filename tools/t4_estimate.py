#!/usr/bin/env python
"""A paper estimate of each lesson's full-size time on a free Colab T4 (16 GB GPU, 2 vCPUs): prints the table that
nbs/index.ipynb shows. Nothing here runs on a GPU.

Three inputs, each named in the output:
- COUNTED: the passes over the training data that each lesson's full-size cells make (WORK below, read off the lessons'
  `if SIZE == 'full'` cells: recipes x seeds x epochs; a stage that trains on cached body features counts one pass).
  Keep WORK in step when a lesson's full-size parameters change.
- PUBLISHED: T4 training throughput, derived from NVIDIA's DeepLearningExamples READMEs (PyTorch 21.03 container):
  V100-16GB one-GPU mixed-precision training, ResNet-50 1200 img/s and EfficientNet-B0 1301 img/s, scaled by the T4/V100
  ratio of the same README's ResNet-50 mixed-precision inference at batch 256 (T4 1198 img/s, V100 3382 img/s).
  Other backbones: ResNet-50's rate times its FLOPs over theirs (FLOPs counted here, see below). Other image sizes: in
  proportion to the pixels.
- MEASURED here, one CPU thread (OMP_NUM_THREADS=1): the seconds per image of `tunelab.data.image_dls`'s training
  loader (fastai's item pipeline: decode, presize to 1.5 x size, to tensor, collate; batch augmentation left out, as it
  runs on the GPU there), on copies of scikit-learn's `china.jpg` (640x427 JPEG). Colab's 2 vCPUs running 2 loader
  workers then load at most 2 / that many images a second, if a Colab vCPU were as fast as this machine's core.
  FLOPs of each backbone's forward pass at 224 px, counted with `torch.utils.flop_counter` on timm's model (random weights).

An epoch takes max(GPU time, loader time): loader workers and the GPU overlap. Every pass counts as full training steps
(frozen-body epochs are cheaper on the GPU), so the GPU column is an upper bound for that part.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python tools/t4_estimate.py
"""
import os, time
os.environ.setdefault('OMP_NUM_THREADS', '1'); os.environ.setdefault('MKL_NUM_THREADS', '1')
import torch
torch.set_num_threads(1)

# published (NVIDIA DeepLearningExamples, PyTorch/Classification/ConvNets, resnet50v1.5 and efficientnet READMEs)
V100_TRAIN_AMP = {'resnet50': 1200, 'efficientnet_b0': 1301}   # img/s, 1x V100 16GB, mixed precision, training
T4_OVER_V100 = 1198 / 3382                                     # ResNet-50 mixed-precision inference, batch 256
# Oxford-IIIT Pets: 3,680 + 3,669 images (TFDS catalog); Imagenette: 9.47k + 3.93k, rounded as shown (Hugging Face frgfm/imagenette)
IMAGES = {'pets': 3680 + 3669, 'imagenette': 9470 + 3930}
SHORT_SIDE = {'pets': None, 'imagenette': 320}                 # test JPEG: as it is, or shrunk like Imagenette-320
TRAIN_PCT = 0.8                                                # the runner's stratified split holds out 20%

# counted: (lesson, dataset, arch, image size, passes over the training data, what they are)
WORK = [
    ('01_data', None, None, 224, 0, 'download Pets and show a batch: no training'),
    ('02_models', 'pets', 'efficientnet_lite0', 224, 8, 'fine_tune 1+3 epochs, from scratch 4 epochs'),
    ('03_recipes', None, None, 224, 0, 'recipe definitions: no full-size training'),
    ('04_runner', 'imagenette', 'efficientnet_lite0', 160, 76,
     '4 standard recipes x (3 rates on seed 0 + 2 more seeds) x 5 epochs (probe cached: 1 pass)'),
    ('05_freezing', 'pets', 'efficientnet_lite0', 224, 76,
     '4 policies x (3 rates on seed 0 + 2 more seeds) x 5 epochs (feature extraction cached: 1 pass)'),
    ('06_discriminative_lrs', 'pets', 'efficientnet_lite0', 224, 101,
     'lr_find twice (~1 pass) + 4 recipes x (3 rates on seed 0 + 2 more seeds) x 5 epochs'),
    ('07_gradual_unfreezing', 'pets', 'efficientnet_lite0', 224, 75, '3 recipes x (3 rates on seed 0 + 2 more seeds) x 5 epochs'),
    ('08_backbones', 'pets', ['resnet18', 'resnet34', 'resnet50', 'convnext_tiny', 'vit_small_patch16_224'], 224, 6,
     '5 backbones x (probe cached: 1 pass + fine_tune 5 epochs)'),
    ('09_cleaning', None, None, 224, 0, 'no full-size dataset: the same silhouettes at both sizes'),
    ('10_augmentation', None, None, 224, 0, 'no full-size dataset: the same silhouettes at both sizes'),
    ('11_speed', None, None, 224, 0, 'no full-size dataset: timings on this device'),
    ('12_evaluate', None, None, 224, 0, 'generated images only (200 at 128 px at full size): not estimated'),
    ('13_forgetting', None, None, 224, 0, 'silhouettes only (up to 500 a class at 64 px, 3 seeds): not estimated'),
    ('14_negative_transfer', None, None, 224, 0, 'silhouettes only (up to 500 a class at 64 px, 3 seeds): not estimated'),
    ('15_out_of_distribution', None, None, 224, 0, 'generated shapes only (up to 300 a class at 64 px, 3 seeds): not estimated'),
    ('90_cli', None, None, 224, 0, 'no full-size training (the CLI on the silhouettes)'),
]

def t4_train_rate(arch:str, size:int, flops:dict) -> float:
    "Estimated T4 mixed-precision training images/s for `arch` at `size` px."
    if arch.startswith('efficientnet'): base = V100_TRAIN_AMP['efficientnet_b0'] * T4_OVER_V100   # B0 stands in for Lite0
    else: base = V100_TRAIN_AMP['resnet50'] * T4_OVER_V100 * flops['resnet50'] / flops[arch]
    return base * (224 / size) ** 2

def count_flops(archs) -> dict:
    "Forward-pass FLOPs at 224 px of each timm architecture (random weights), counted by torch."
    import timm
    from torch.utils.flop_counter import FlopCounterMode
    res = {}
    for a in archs:
        m = timm.create_model(a, pretrained=False, num_classes=37).eval()
        with torch.no_grad(), FlopCounterMode(display=False) as fc: m(torch.randn(1, 3, 224, 224))
        res[a] = fc.get_total_flops()
    return res

def item_seconds(size:int,            # training image size (the loader presizes to 1.5 x size)
                 short_side:int|None, # shrink the test JPEG to this shorter side first (Imagenette-320's files), or not
                 n_per_class:int=48, reps:int=5) -> float:
    "Seconds per image through `image_dls`'s training loader (decode, presize, collate; no batch augmentation), one process: the fastest of `reps` passes."
    import sklearn.datasets, shutil, tempfile, io, contextlib
    from pathlib import Path
    from PIL import Image
    from fastai.vision.all import Pipeline
    from tunelab.data import image_dls, item_memo
    d = Path(tempfile.mkdtemp())
    im = Image.open(Path(sklearn.datasets.__file__).parent/'images'/'china.jpg')
    if short_side: im = im.resize((round(im.width * short_side / min(im.size)), round(im.height * short_side / min(im.size))))
    im.save(d/'test.jpg', quality=90)
    for c in ('a', 'b'):
        (d/c).mkdir()
        for i in range(n_per_class): shutil.copy(d/'test.jpg', d/c/f'{i}.jpg')
    (d/'test.jpg').unlink()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        dls = image_dls(d, size=size, bs=16, num_workers=0, device='cpu')
    dl = dls.train; dl.after_batch = Pipeline([])   # on a GPU the batch augmentation runs there, not in the loader
    ts = []
    with item_memo.off():                           # decode every image every epoch, as fastai does
        for _ in range(reps):
            t, n = time.perf_counter(), 0
            for xb, yb in dl: n += len(xb)
            ts.append((time.perf_counter() - t) / n)
    shutil.rmtree(d, ignore_errors=True)
    return min(ts)

def main():
    archs = sorted({a for w in WORK for a in ([w[2]] if isinstance(w[2], str) else (w[2] or [])) if not a.startswith('efficientnet')}
                   | {'resnet50'})
    flops = count_flops(archs)
    item_s = {(d, s): item_seconds(s, SHORT_SIDE[d]) for d, s in sorted({(w[1], w[3]) for w in WORK if w[1]})}
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("measured on this CPU, 1 thread, image_dls's training loader per image (china.jpg, 640x427; shrunk to a "
          "320-px shorter side for Imagenette): " + ', '.join(f"{d} at {s} px {t*1000:.1f} ms" for (d, s), t in item_s.items())
          + "; so 2 loader workers give at most " + ', '.join(f"{2/t:.0f} img/s ({d})" for (d, s), t in item_s.items()))
    print("forward GFLOPs at 224 px (counted): " + ', '.join(f"{a} {v/1e9:.1f}" for a, v in flops.items()))
    print(f"T4 training img/s (derived): efficientnet_lite0 {t4_train_rate('efficientnet_lite0', 224, flops):.0f} at 224 px; "
          + ', '.join(f"{a} {t4_train_rate(a, 224, flops):.0f}" for a in archs))
    print("\n| lesson | full-size work | GPU-bound minutes | loader-bound minutes | estimated T4 minutes |")
    print("| --- | --- | ---: | ---: | ---: |")
    for lesson, data, arch, size, passes, what in WORK:
        if not data: print(f"| {lesson} | {what} | – | – | – |"); continue
        n = IMAGES[data]; n_train, n_valid = n * TRAIN_PCT, n * (1 - TRAIN_PCT)
        gpu = load = est = 0.
        for a in ([arch] if isinstance(arch, str) else arch):
            rate = t4_train_rate(a, size, flops)
            g = n_train / rate + n_valid / (3 * rate)                 # validation: forward only, ~1/3 of a training step
            l = (n_train + n_valid) * item_s[(data, size)] / 2        # 2 loader workers on 2 vCPUs
            gpu, load, est = gpu + passes * g, load + passes * l, est + passes * max(g, l)
        print(f"| {lesson} | {what}; {data} at {size} px | {gpu/60:.0f} | {load/60:.0f} | {est/60:.0f} |")

if __name__ == '__main__': main()
