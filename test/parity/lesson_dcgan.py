"""PyTorch reference for test/model-parity.test.ts: the d2l lesson's DCGAN, fed dcgan-run's TF.js weights.

Usage: lesson_dcgan.py <dir>
Reads <dir>/input.json + input.bin (see test/parity/exchange.ts), writes <dir>/output.json + output.bin.

G_block / net_G / D_block / net_D follow /work/shared/lesson/dcgan-lesson.md, generalised only by the
channel lists, the image channels (1 or 3), the generator's first kernel (4 in the lesson, 7 for
28x28) and the discriminator's final kernel (likewise). With the defaults they are the lesson's nets.

Weight layout conversion (TF.js NHWC -> PyTorch NCHW), no spatial flip in either case:
  Conv2d:          TF kernel [kh, kw, in, out] -> torch weight [out, in, kh, kw]  (transpose 3, 2, 0, 1)
  ConvTranspose2d: TF kernel [kh, kw, out, in] -> torch weight [in, out, kh, kw]  (transpose 3, 2, 0, 1)
Both frameworks compute cross-correlation for Conv2d, and both define the transposed convolution as
the gradient of that Conv2d with the same kernel, so the taps line up without flipping; the `flipped`
outputs (kernels flipped in h and w) are written so the test can show it would notice a flip.

test/parity/lesson_train.py (the training-step parity) imports the nets and helpers from here.
"""
import json
import sys

import numpy as np
import torch
from torch import nn


class G_block(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size=4, strides=2, padding=1):
        super(G_block, self).__init__()
        self.conv2d_trans = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=kernel_size,
                                               stride=strides, padding=padding, bias=False)
        self.batch_norm = nn.BatchNorm2d(out_channels, 0.8)
        self.activation = nn.ReLU()

    def forward(self, x):
        return self.activation(self.batch_norm(self.conv2d_trans(x)))


class net_G(nn.Module):
    def __init__(self, in_channels, channels=(512, 256, 128, 64), image_channels=3, first_kernel=4):
        super(net_G, self).__init__()
        blocks = [G_block(in_channels, channels[0], kernel_size=first_kernel, strides=1, padding=0)]
        blocks += [G_block(a, b) for a, b in zip(channels, channels[1:])]
        self.model = nn.Sequential(
            *blocks,
            nn.ConvTranspose2d(channels[-1], image_channels, kernel_size=4, stride=2, padding=1, bias=False),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.model(x)


class D_block(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size=4, strides=2, padding=1, alpha=0.2):
        super(D_block, self).__init__()
        self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding, bias=False)
        self.batch_norm = nn.BatchNorm2d(out_channels, 0.8)
        self.activation = nn.LeakyReLU(alpha)

    def forward(self, X):
        return self.activation(self.batch_norm(self.conv2d(X)))


class net_D(nn.Module):
    def __init__(self, in_channels=3, channels=(64, 128, 256, 512), final_kernel=4):
        super(net_D, self).__init__()
        blocks = [D_block(in_channels, channels[0])]
        blocks += [D_block(a, b) for a, b in zip(channels, channels[1:])]
        self.model = nn.Sequential(*blocks)
        self.conv = nn.Conv2d(channels[-1], 1, kernel_size=final_kernel, bias=False)
        self.activation = nn.Sigmoid()

    def forward(self, x):
        x = self.model(x)
        x = self.conv(x)
        x = self.activation(x)
        return x


def read_tensors(stem):
    with open(stem + '.json') as f:
        manifest = json.load(f)
    flat = np.fromfile(stem + '.bin', dtype='<f4')
    tensors = {}
    for t in manifest['tensors']:
        size = int(np.prod(t['shape'])) if t['shape'] else 1
        tensors[t['name']] = flat[t['offset']:t['offset'] + size].reshape(t['shape'])
    return manifest['meta'], tensors


def write_tensors(stem, meta, tensors):
    entries, chunks, offset = [], [], 0
    for name, value in tensors.items():
        arr = np.array(value, dtype='<f4', order='C')  # keeps 0-d scalars 0-d (ascontiguousarray makes them 1-d)
        entries.append({'name': name, 'shape': list(arr.shape), 'offset': offset})
        chunks.append(arr.reshape(-1))
        offset += arr.size
    with open(stem + '.json', 'w') as f:
        json.dump({'meta': meta, 'tensors': entries}, f)
    np.concatenate(chunks).tofile(stem + '.bin')


def kernel(tf_kernel):
    return torch.from_numpy(np.ascontiguousarray(tf_kernel.transpose(3, 2, 0, 1)))


def load_bn(bn, tensors, name):
    bn.weight.copy_(torch.from_numpy(tensors[name + '/gamma']))
    bn.bias.copy_(torch.from_numpy(tensors[name + '/beta']))
    bn.running_mean.copy_(torch.from_numpy(tensors[name + '/moving_mean']))
    bn.running_var.copy_(torch.from_numpy(tensors[name + '/moving_variance']))


def generator_layers(G):
    """(TF layer name, torch conv, torch bn or None), in order."""
    *blocks, out_conv, _tanh = G.model
    layers = [('g_block%d_convT' % i, b.conv2d_trans, ('g_block%d_bn' % i, b.batch_norm)) for i, b in enumerate(blocks, 1)]
    return layers + [('g_out_convT', out_conv, None)]


def discriminator_layers(D):
    layers = [('d_block%d_conv' % i, b.conv2d, ('d_block%d_bn' % i, b.batch_norm)) for i, b in enumerate(D.model, 1)]
    return layers + [('d_out_conv', D.conv, None)]


def load(layers, tensors, prefix):
    for conv_name, conv, bn in layers:
        conv.weight.copy_(kernel(tensors[prefix + conv_name + '/kernel']))
        if bn:
            load_bn(bn[1], tensors, prefix + bn[0])


def build(meta, tensors):
    """net_G and net_D as meta describes them, loaded with the TF.js weights in tensors (G/..., D/...).

    Returns G, D, their (TF name, conv, bn) layers, and (net prefix, TF name, module) for every batch norm.
    """
    torch.manual_seed(0)  # every weight is overwritten; this only fixes the throwaway default init
    g_meta, d_meta = meta['generator'], meta['discriminator']
    G = net_G(g_meta['latentDim'], g_meta['channels'], g_meta['imageChannels'], g_meta['firstKernel'])
    D = net_D(d_meta['imageChannels'], d_meta['channels'], d_meta['finalKernel'])
    for m in list(G.modules()) + list(D.modules()):
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = meta['torchMomentum']
            assert m.eps == meta['epsilon'], 'the lesson hard-codes BatchNorm2d(c, 0.8)'
    g_layers, d_layers = generator_layers(G), discriminator_layers(D)
    norms = [(net, bn[0], bn[1]) for net, layers in (('G/', g_layers), ('D/', d_layers)) for _n, _c, bn in layers if bn]
    with torch.no_grad():
        load(g_layers, tensors, 'G/')
        load(d_layers, tensors, 'D/')
    return G, D, g_layers, d_layers, norms


def inputs(tensors):
    """The noise z as [n, latent, 1, 1] and the NHWC batch x as NCHW."""
    z = torch.from_numpy(tensors['z']).reshape(tensors['z'].shape[0], -1, 1, 1)
    x = torch.from_numpy(tensors['x']).permute(0, 3, 1, 2).contiguous()
    return z, x


def biased_moving_variance(previous, bn_input, momentum):
    """running_var after one batch with the biased batch variance (TF/Keras's rule) instead of torch's unbiased one."""
    return (1 - momentum) * previous + momentum * bn_input.var(dim=(0, 2, 3), unbiased=False)


def main(directory):
    meta, tensors = read_tensors(directory + '/input')
    G, D, g_layers, d_layers, norms = build(meta, tensors)
    z, x = inputs(tensors)
    to_nhwc = lambda t: t.permute(0, 2, 3, 1).numpy()
    out = {}

    logits = []
    D.conv.register_forward_hook(lambda _m, _i, o: logits.append(o.reshape(o.shape[0], 1)))
    bn_inputs = {}
    for _net, bn_name, module in norms:
        module.register_forward_hook(lambda _m, i, _o, key=bn_name: bn_inputs.__setitem__(key, i[0]))

    with torch.no_grad():
        G.train(), D.train()
        out['g_train'] = to_nhwc(G(z))
        out['d_train_sigmoid'] = D(x).reshape(-1, 1).numpy()
        out['d_train_logit'] = logits[-1].numpy()

        for net, bn_name, module in norms:
            initial_var = torch.from_numpy(tensors[net + bn_name + '/moving_variance'])
            out['stats/' + bn_name + '/moving_mean'] = module.running_mean.numpy().copy()
            out['stats/' + bn_name + '/moving_variance'] = module.running_var.numpy().copy()
            out['stats/' + bn_name + '/moving_variance_biased'] = biased_moving_variance(initial_var, bn_inputs[bn_name], module.momentum).numpy()

        G.eval(), D.eval()
        out['g_eval'] = to_nhwc(G(z))
        out['d_eval_sigmoid'] = D(x).reshape(-1, 1).numpy()
        out['d_eval_logit'] = logits[-1].numpy()

        # Eval again with TF.js's moving statistics, to compare the inference path on equal statistics.
        for _net, bn_name, module in norms:
            module.running_mean.copy_(torch.from_numpy(tensors['tfstats/' + bn_name + '/moving_mean']))
            module.running_var.copy_(torch.from_numpy(tensors['tfstats/' + bn_name + '/moving_variance']))
        out['g_eval_tfstats'] = to_nhwc(G(z))
        D(x)
        out['d_eval_tfstats_logit'] = logits[-1].numpy()

        # The same weights with spatially flipped kernels: must NOT match (shows the check is sensitive).
        for _n, conv, _bn in g_layers + d_layers:
            conv.weight.copy_(torch.flip(conv.weight, dims=(2, 3)))
        G.train(), D.train()
        out['g_train_flipped'] = to_nhwc(G(z))
        D(x)
        out['d_train_flipped_logit'] = logits[-1].numpy()

    write_tensors(directory + '/output', {'torch': torch.__version__}, out)


if __name__ == '__main__':
    main(sys.argv[1])
