"""PyTorch reference for test/train-augment.test.ts: DiffAugment's three ops (Zhao et al. 2020), transcribed
from the paper's DiffAugment_pytorch.py with each torch.rand / torch.randint replaced by an argument holding
the values dcgan-run drew, so both sides run the same parameters.

Usage: diff_augment.py <dir>
Reads <dir>/input.json + input.bin (see test/parity/exchange.ts; the reader and writer are lesson_dcgan.py's): `x` and `weights` (NHWC, as TF.js), the
draws `brightness`, `saturation`, `contrast` (uniforms, one per image), `translation_x` / `translation_y` (row
and column shifts) and `offset_x` / `offset_y` (cutout centres). Writes <dir>/output.json + output.bin: for each
case in meta.cases (a list of policies), `out/<name>` = DiffAugment(x) and `grad/<name>` = d sum(out * weights) / dx,
both NHWC.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

from lesson_dcgan import read_tensors, write_tensors


def per_image(values):
    return values.view(-1, 1, 1, 1)


def rand_brightness(x, r):
    return x + (per_image(r) - 0.5)


def rand_saturation(x, r):
    x_mean = x.mean(dim=1, keepdim=True)
    return (x - x_mean) * (per_image(r) * 2) + x_mean


def rand_contrast(x, r):
    x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - x_mean) * (per_image(r) + 0.5) + x_mean


def rand_translation(x, translation_x, translation_y):
    translation_x = translation_x.long().view(-1, 1, 1)
    translation_y = translation_y.long().view(-1, 1, 1)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long),
        torch.arange(x.size(2), dtype=torch.long),
        torch.arange(x.size(3), dtype=torch.long),
        indexing='ij',
    )
    grid_x = torch.clamp(grid_x + translation_x + 1, 0, x.size(2) + 1)
    grid_y = torch.clamp(grid_y + translation_y + 1, 0, x.size(3) + 1)
    x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return x_pad.permute(0, 2, 3, 1).contiguous()[grid_batch, grid_x, grid_y].permute(0, 3, 1, 2)


def rand_cutout(x, offset_x, offset_y, ratio=0.5):
    cutout_size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    offset_x = offset_x.long().view(-1, 1, 1)
    offset_y = offset_y.long().view(-1, 1, 1)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long),
        torch.arange(cutout_size[0], dtype=torch.long),
        torch.arange(cutout_size[1], dtype=torch.long),
        indexing='ij',
    )
    grid_x = torch.clamp(grid_x + offset_x - cutout_size[0] // 2, min=0, max=x.size(2) - 1)
    grid_y = torch.clamp(grid_y + offset_y - cutout_size[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(x.size(0), x.size(2), x.size(3), dtype=x.dtype)
    mask[grid_batch, grid_x, grid_y] = 0
    return x * mask.unsqueeze(1)


def diff_augment(x, policy, p):
    """The paper's DiffAugment(x, policy) on NCHW x, its ops in the policy's order."""
    for op in policy:
        if op == 'color':
            x = rand_brightness(x, p['brightness'])
            x = rand_saturation(x, p['saturation'])
            x = rand_contrast(x, p['contrast'])
        elif op == 'translation':
            x = rand_translation(x, p['translation_x'], p['translation_y'])
        elif op == 'cutout':
            x = rand_cutout(x, p['offset_x'], p['offset_y'])
        else:
            raise ValueError(op)
    return x


def main():
    folder = sys.argv[1]
    meta, arrays = read_tensors(folder + '/input')
    t = {name: torch.from_numpy(np.array(a)) for name, a in arrays.items()}
    to_nchw = (0, 3, 1, 2)
    to_nhwc = (0, 2, 3, 1)
    weights = t['weights'].permute(*to_nchw)
    out = {}
    for name, policy in meta['cases'].items():
        x = t['x'].permute(*to_nchw).clone().requires_grad_(True)
        y = diff_augment(x, policy, t)
        (y * weights).sum().backward()
        out['out/' + name] = y.detach().permute(*to_nhwc).numpy()
        out['grad/' + name] = x.grad.permute(*to_nhwc).numpy()
    write_tensors(folder + '/output', {}, out)


if __name__ == '__main__':
    main()
