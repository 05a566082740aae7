"""PyTorch reference for test/model-spectral-norm.test.ts: torch.nn.utils.spectral_norm on one Conv2d.

Usage: spectral_norm.py <dir>
Reads <dir>/input.json + input.bin (see test/parity/exchange.ts), writes <dir>/output.json + output.bin.

Inputs, in TF.js layouts: kernel [kh, kw, in, out], bias, u0 (weight_u's initial value), the NHWC batches
x1 and x2, the cotangents r1 and r2 (NHWC, the conv's output shape) and delta (a kernel-shaped change).
meta: stride and padding of the Conv2d.

Two training-mode calls, on x1 then x2 (the discriminator sees a real and a fake batch per loss), each one
power iteration; then the gradient of sum(y1 * r1) + sum(y2 * r2) with respect to the raw kernel
(weight_orig). Then kernel += delta (as an optimizer step would) and one eval-mode call on x1, which uses
the stored u and v.
Outputs are in TF.js layouts too; v, which PyTorch orders as weight.view(out, -1)'s columns (in, kh, kw),
is returned in the TF kernel's row order (kh, kw, in).
"""
import sys

import torch
from torch import nn

from lesson_dcgan import kernel, read_tensors, write_tensors


def tf_kernel(weight):
    return weight.detach().permute(2, 3, 1, 0).numpy()


def tf_v(v, weight):
    _out, channels, kh, kw = weight.shape
    return v.reshape(channels, kh, kw).permute(1, 2, 0).reshape(-1).numpy().copy()


def nchw(array):
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).numpy()


def main(directory):
    meta, tensors = read_tensors(directory + '/input')
    kh, kw, channels, filters = tensors['kernel'].shape
    conv = nn.Conv2d(channels, filters, (kh, kw), stride=meta['stride'], padding=meta['padding'], bias=True)
    with torch.no_grad():
        conv.weight.copy_(kernel(tensors['kernel']))
        conv.bias.copy_(torch.from_numpy(tensors['bias']))
    sn = nn.utils.spectral_norm(conv)  # n_power_iterations=1, eps=1e-12, dim=0: the defaults
    with torch.no_grad():
        sn.weight_u.copy_(torch.from_numpy(tensors['u0']))
    out = {}

    sn.train()
    y1 = sn(nchw(tensors['x1']))
    out['u1'] = sn.weight_u.numpy().copy()
    out['v1'] = tf_v(sn.weight_v, sn.weight)
    out['weight1'] = tf_kernel(sn.weight)
    out['y1'] = nhwc(y1)
    y2 = sn(nchw(tensors['x2']))
    out['u2'] = sn.weight_u.numpy().copy()
    out['v2'] = tf_v(sn.weight_v, sn.weight)
    out['y2'] = nhwc(y2)
    loss = (y1 * nchw(tensors['r1'])).sum() + (y2 * nchw(tensors['r2'])).sum()
    loss.backward()
    out['grad_kernel'] = tf_kernel(sn.weight_orig.grad)

    with torch.no_grad():
        sn.weight_orig.add_(kernel(tensors['delta']))
        sn.eval()
        out['y_eval'] = nhwc(sn(nchw(tensors['x1'])))

    write_tensors(directory + '/output', {'torch': torch.__version__}, out)


if __name__ == '__main__':
    main(sys.argv[1])
