"""PyTorch reference for test/model-upsample.test.ts: the DCGAN generator with resize-convolutions.

Usage: upsample_generator.py <dir>
Reads <dir>/input.json + input.bin (see test/parity/exchange.ts), writes <dir>/output.json + output.bin.

The network of `model.generator.upsample: nearest`: the lesson's first block (ConvTranspose2d from 1x1, batch
norm, ReLU), then per block nn.Upsample(scale_factor=2, mode='nearest'), Conv2d(3, stride 1, padding 1), batch
norm, ReLU; the same upsampling and conv to the image channels; tanh. No biases (batch norm follows, and the
output layer has none, as the lesson's).
Inputs: the TF.js weights (G/<layer>/kernel, G/<bn>/gamma, beta, moving_mean, moving_variance), the noise z
[n, latent], the cotangent r (NHWC, the output's shape) and tfstats/<bn>/moving_* (TF.js's statistics after
the training-mode call). meta: latentDim, channels, imageChannels, firstKernel, epsilon, torchMomentum.
Outputs (TF.js layouts): g_train (training mode, batch statistics); grad/<weight> of sum(G(z) * r) for every
kernel, gamma and beta; g_eval (eval mode with TF.js's moving statistics); g_train_bilinear, the training-mode
output with bilinear upsampling instead, for the test to show that it tells the two apart.
"""
import sys

import torch
from torch import nn

from lesson_dcgan import kernel, read_tensors, write_tensors


class Generator(nn.Module):
    def __init__(self, meta, mode):
        super().__init__()
        channels, eps = meta['channels'], meta['epsilon']
        self.names = [('g_block1_convT', 'g_block1_bn')]
        layers = [nn.ConvTranspose2d(meta['latentDim'], channels[0], meta['firstKernel'], 1, 0, bias=False), nn.BatchNorm2d(channels[0], eps), nn.ReLU()]
        for i, (a, b) in enumerate(zip(channels, channels[1:]), 2):
            self.names.append(('g_block%d_conv' % i, 'g_block%d_bn' % i))
            layers += [nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(a, b, 3, 1, 1, bias=False), nn.BatchNorm2d(b, eps), nn.ReLU()]
        self.names.append(('g_out_conv', None))
        layers += [nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(channels[-1], meta['imageChannels'], 3, 1, 1, bias=False), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        for m in self.model:
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = meta['torchMomentum']

    def layers(self):
        """(TF conv name, conv, TF bn name or None, bn or None) in order."""
        convs = [m for m in self.model if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        norms = [m for m in self.model if isinstance(m, nn.BatchNorm2d)] + [None]
        return [(c_name, conv, bn_name, bn) for (c_name, bn_name), conv, bn in zip(self.names, convs, norms)]

    def load(self, tensors, stats='G/'):
        with torch.no_grad():
            for c_name, conv, bn_name, bn in self.layers():
                conv.weight.copy_(kernel(tensors['G/' + c_name + '/kernel']))
                if bn is not None:
                    bn.weight.copy_(torch.from_numpy(tensors['G/' + bn_name + '/gamma']))
                    bn.bias.copy_(torch.from_numpy(tensors['G/' + bn_name + '/beta']))
                    bn.running_mean.copy_(torch.from_numpy(tensors[stats + bn_name + '/moving_mean']))
                    bn.running_var.copy_(torch.from_numpy(tensors[stats + bn_name + '/moving_variance']))

    def forward(self, z):
        return self.model(z)


def main(directory):
    meta, tensors = read_tensors(directory + '/input')
    z = torch.from_numpy(tensors['z']).reshape(tensors['z'].shape[0], -1, 1, 1)
    r = torch.from_numpy(tensors['r']).permute(0, 3, 1, 2)
    nhwc = lambda t: t.detach().permute(0, 2, 3, 1).numpy()
    out = {}

    G = Generator(meta, 'nearest')
    G.load(tensors)
    G.train()
    y = G(z)
    out['g_train'] = nhwc(y)
    (y * r).sum().backward()
    for c_name, conv, bn_name, bn in G.layers():
        # Both torch layouts ([out, in, kh, kw] and the transposed conv's [in, out, kh, kw]) go back as permute(2, 3, 1, 0).
        out['grad/' + c_name + '/kernel'] = conv.weight.grad.permute(2, 3, 1, 0).numpy()
        if bn is not None:
            out['grad/' + bn_name + '/gamma'] = bn.weight.grad.numpy()
            out['grad/' + bn_name + '/beta'] = bn.bias.grad.numpy()

    G.load(tensors, stats='tfstats/')
    G.eval()
    with torch.no_grad():
        out['g_eval'] = nhwc(G(z))

    bilinear = Generator(meta, 'bilinear')
    bilinear.load(tensors)
    bilinear.train()
    with torch.no_grad():
        out['g_train_bilinear'] = nhwc(bilinear(z))
    write_tensors(directory + '/output', {}, out)


if __name__ == '__main__':
    main(sys.argv[1])
