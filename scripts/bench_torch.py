"""Times a DCGAN training step in PyTorch (CPU), for scripts/bench.ts to compare against.

Usage: bench_torch.py <spec> <batch> <steps> <warmup> <threads> [impls]
<spec> is JSON from scripts/bench.ts (torchSpec): the nets' shapes and the step's options, from an experiment config:
  {"latentDim", "imageSize", "imageChannels",
   "generator": {"channels", "firstKernel", "batchNorm": {"momentum", "epsilon"}, "upsample": "transposed" | "nearest"},
   "discriminator": {"channels", "finalKernel", "alpha", "spectralNorm", "batchNorm": false | {"momentum", "epsilon", "firstBlock"}},
   "adam": {"generator": [lr, beta1, beta2, eps], "discriminator": [...]},
   "loss": "bce" | "hinge" | "wgan-gp", "gradientPenalty", "r1", "augment": null | {"policy", "probability"}, "ema": null | beta}
Prints a JSON line for each impl: pytorch-lesson (the lesson's step as written) and pytorch (the fake batch
detached in update_D, as dcgan-run's step), or those named. The step is update_D then update_G on random
images in [-1, 1]: the data pipeline is not part of PyTorch's figure.
"""
import copy
import json
import os
import re
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'test', 'parity'))
from diff_augment import diff_augment  # noqa: E402
from lesson_dcgan import net_D, net_G  # noqa: E402
from penalties import logits, r1, wgan_gp  # noqa: E402
from upsample_generator import Generator as ResizeConvGenerator  # noqa: E402


def blas():
    config = torch.__config__.show()
    found = re.search(r'BLAS_INFO=([^,\s]+)', config)
    mkldnn = 'oneDNN' if torch.backends.mkldnn.is_available() else 'no oneDNN'
    # A build against the generic BLAS interface uses whichever libblas is installed (Debian's alternatives).
    with open('/proc/self/maps') as maps:
        loaded = sorted({line.split()[-1].split('/')[-1] for line in maps if 'blas' in line.lower()})
    return f"{found.group(1) if found else 'unknown'} BLAS ({', '.join(loaded) or 'none loaded'}), {mkldnn}"


def set_batch_norm(bn, settings):
    """dcgan-run's momentum is the moving statistics' decay; PyTorch's is the new batch's weight."""
    bn.eps, bn.momentum = settings['epsilon'], 1 - settings['momentum']


def build(spec):
    """The lesson's nets shaped as the config's, with dcgan-run's discriminator variants: a block without batch
    norm has a convolution bias, as has the final convolution when D has no batch norm at all; G with
    upsample: nearest is test/parity/upsample_generator.py's."""
    g, d = spec['generator'], spec['discriminator']
    if g['upsample'] == 'nearest':
        bn = g['batchNorm']
        meta = {'latentDim': spec['latentDim'], 'channels': g['channels'], 'imageChannels': spec['imageChannels'], 'firstKernel': g['firstKernel']}
        G = ResizeConvGenerator({**meta, 'epsilon': bn['epsilon'], 'torchMomentum': 1 - bn['momentum']}, 'nearest')
    else:
        G = net_G(spec['latentDim'], g['channels'], spec['imageChannels'], g['firstKernel'])
    D = net_D(spec['imageChannels'], d['channels'], d['finalKernel'])
    for module in G.modules():
        if isinstance(module, nn.BatchNorm2d):
            set_batch_norm(module, g['batchNorm'])
    bn = d['batchNorm']
    for i, block in enumerate(D.model):
        block.activation = nn.LeakyReLU(d['alpha'])
        if bn and (i > 0 or bn['firstBlock']):
            set_batch_norm(block.batch_norm, bn)
        else:
            block.batch_norm = nn.Identity()
            block.conv2d.bias = nn.Parameter(torch.zeros(block.conv2d.out_channels))
    if not bn:
        D.conv.bias = nn.Parameter(torch.zeros(1))
    if d['spectralNorm']:
        for conv in [block.conv2d for block in D.model] + [D.conv]:
            nn.utils.spectral_norm(conv)
    return G, D


def augmenter(settings):
    """DiffAugment with the paper's fresh draws per call (its DiffAugment_pytorch.py ranges), or the identity."""
    if settings is None:
        return lambda x: x

    def augment(x):
        n, _c, h, w = x.shape
        rand_int = lambda low, high: torch.randint(low, high, [n])
        shift_h, shift_w = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
        cut_h, cut_w = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
        draws = {
            'brightness': torch.rand(n), 'saturation': torch.rand(n), 'contrast': torch.rand(n),
            'translation_x': rand_int(-shift_h, shift_h + 1), 'translation_y': rand_int(-shift_w, shift_w + 1),
            'offset_x': rand_int(0, h + 1 - cut_h % 2), 'offset_y': rand_int(0, w + 1 - cut_w % 2),
        }
        y = diff_augment(x, settings['policy'], draws)
        if settings['probability'] >= 1:
            return y
        return torch.where(torch.rand(n, 1, 1, 1) < settings['probability'], y, x)

    return augment


def losses(kind):
    """(D's loss from real and fake logits, G's from fake logits), as src/train/losses.ts."""
    if kind == 'bce':
        # The lesson's BCELoss on net_D's sigmoid output.
        bce = nn.BCELoss()
        real_is = lambda logit, label: bce(torch.sigmoid(logit), torch.full_like(logit, label))
        return (lambda real, fake: (real_is(real, 1.0) + real_is(fake, 0.0)) / 2), (lambda fake: real_is(fake, 1.0))
    if kind == 'hinge':
        return (lambda real, fake: torch.relu(1 - real).mean() + torch.relu(1 + fake).mean()), (lambda fake: -fake.mean())
    return (lambda real, fake: fake.mean() - real.mean()), (lambda fake: -fake.mean())


def averager(G, beta):
    """EMA of G's parameters after each update, its buffers (batch-norm statistics) copied, as src/train/ema.ts."""
    if beta is None:
        return lambda: None
    average = copy.deepcopy(G)
    params, averaged = list(G.parameters()), list(average.parameters())

    @torch.no_grad()
    def update():
        torch._foreach_mul_(averaged, beta)
        torch._foreach_add_(averaged, params, alpha=1 - beta)
        for target, buffer in zip(average.buffers(), G.buffers()):
            target.copy_(buffer)

    return update


def time_steps(spec, batch, steps, warmup, detach):
    """Median seconds per step. detach=False is the lesson's update_D as written: D's loss also backpropagates
    into G (whose gradients update_G then zeroes). detach=True stops it there, as our step does: the same
    updates for less work, so it is the baseline our ratio is taken against."""
    torch.manual_seed(0)
    G, D = build(spec)
    adam = lambda net, s: torch.optim.Adam(net.parameters(), lr=s[0], betas=(s[1], s[2]), eps=s[3])
    opt_g, opt_d = adam(G, spec['adam']['generator']), adam(D, spec['adam']['discriminator'])
    loss_d_of, loss_g_of = losses(spec['loss'])
    seen = augmenter(spec['augment'])
    update_average = averager(G, spec['ema'])
    X = torch.rand(batch, spec['imageChannels'], spec['imageSize'], spec['imageSize']) * 2 - 1
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        Z = torch.randn(batch, spec['latentDim'], 1, 1)
        opt_d.zero_grad()
        fake = G(Z)
        real_seen, fake_seen = seen(X), seen(fake.detach() if detach else fake)
        loss_d = loss_d_of(logits(D, real_seen), logits(D, fake_seen))
        # The penalties on the images D is trained on, augmented where augment is on, as src/train/step.ts.
        if spec['r1']:
            loss_d = loss_d + r1(D, real_seen, None, None) * (spec['r1'] / 2)
        if spec['loss'] == 'wgan-gp':
            loss_d = loss_d + wgan_gp(D, real_seen, fake_seen, torch.rand(batch, 1, 1, 1)) * spec['gradientPenalty']
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = loss_g_of(logits(D, seen(G(Z))))
        loss_g.backward()
        opt_g.step()
        update_average()
        loss_d.item(), loss_g.item()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    spec = json.loads(sys.argv[1])
    batch, steps, warmup, threads = (int(a) for a in sys.argv[2:6])
    wanted = sys.argv[6].split(',') if len(sys.argv) > 6 else ['pytorch-lesson', 'pytorch']
    torch.set_num_threads(threads)
    about = {'version': torch.__version__, 'blas': blas(), 'threads': threads, 'batch': batch, 'steps': steps}
    for impl, detach in (('pytorch-lesson', False), ('pytorch', True)):
        if impl not in wanted:
            continue
        seconds = time_steps(spec, batch, steps, warmup, detach)
        print(json.dumps({'impl': impl, **about, 'secondsPerStep': seconds, 'imagesPerSec': batch / seconds}), flush=True)


main()
