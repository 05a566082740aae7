"""PyTorch autograd reference for test/train-penalties.test.ts: R1 and WGAN-GP penalties of the lesson's net_D.

Usage: penalties.py <dir>
Reads <dir>/input.json + input.bin (test/parity/exchange.ts): meta.cases, each with the discriminator's shape, and
per case <case>/D/<weight> (TF layout), <case>/real, <case>/fake (NHWC) and <case>/mix ([batch, 1, 1, 1]).
Writes <dir>/output.json + output.bin: per case and penalty <case>/<penalty>/value and
<case>/<penalty>/grad/<weight> (TF layout), computed in float64 with create_graph=True (double backward).

Each block's activation is the case's (ReLU, LeakyReLU, ELU, SELU, tanh, or SiLU for swish). A case without batch
norm replaces each block's BatchNorm2d by nn.Identity and gives every convolution a bias, as dcgan-run's
discriminator does then; with spectral norm every convolution gets torch.nn.utils.spectral_norm, its u from
dcgan-run's <conv>/u. For the test's blind-spot check, cases with batch norm also get <case>/<penalty>/bn-constants/...:
the same penalty through a batch norm whose backward reads its normalised input and 1/sigma as saved constants
(dcgan-run's written-out batch-norm gradient), which differentiates once correctly but drops second-order terms.
"""
import sys

import torch
from torch import nn

from lesson_dcgan import discriminator_layers, kernel, load, net_D, read_tensors, write_tensors


class SavedConstantsBatchNorm(torch.autograd.Function):
    """Training-mode batch norm with its gradient written out from saved x_hat and 1/sigma (constants to autograd)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mean = x.mean((0, 2, 3), keepdim=True)
        inv_std = (x.var((0, 2, 3), unbiased=False, keepdim=True) + eps).rsqrt()
        x_hat = (x - mean) * inv_std
        ctx.save_for_backward(x_hat, inv_std, weight)
        return x_hat * weight.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)

    @staticmethod
    def backward(ctx, dy):
        x_hat, inv_std, weight = ctx.saved_tensors
        count = dy.numel() / dy.shape[1]
        d_bias = dy.sum((0, 2, 3))
        d_weight = (dy * x_hat).sum((0, 2, 3))
        centred = dy - d_bias.view(1, -1, 1, 1) / count - x_hat * d_weight.view(1, -1, 1, 1) / count
        return centred * weight.view(1, -1, 1, 1) * inv_std, d_weight, d_bias, None


class SavedConstantsBatchNorm2d(nn.Module):
    def __init__(self, bn):
        super().__init__()
        self.bn = bn

    def forward(self, x):
        return SavedConstantsBatchNorm.apply(x, self.bn.weight, self.bn.bias, self.bn.eps)


ACTIVATIONS = {
    'relu': lambda _alpha: nn.ReLU(),
    'leakyRelu': nn.LeakyReLU,
    'elu': nn.ELU,
    'selu': lambda _alpha: nn.SELU(),
    'tanh': lambda _alpha: nn.Tanh(),
    'swish': lambda _alpha: nn.SiLU(),
}


def build(case, tensors, prefix):
    """net_D with the case's weights in float64, and its trainable parameters by TF weight name (torch layout)."""
    D = net_D(case['imageChannels'], case['channels'], case['finalKernel'])
    layers = discriminator_layers(D)
    with torch.no_grad():
        if case['batchNorm']:
            assert all(bn.eps == case['epsilon'] for _n, _c, (_b, bn) in layers[:-1]), 'the lesson hard-codes BatchNorm2d(c, 0.8)'
            load(layers, tensors, prefix)
        else:
            for conv_name, conv, _bn in layers:
                conv.weight.copy_(kernel(tensors[prefix + conv_name + '/kernel']))
                conv.bias = nn.Parameter(torch.from_numpy(tensors[prefix + conv_name + '/bias']))
        if case['spectralNorm']:
            for conv_name, conv, _bn in layers:
                nn.utils.spectral_norm(conv)  # one power iteration per training-mode call, as SpectralNormConv2D
                conv.weight_u.copy_(torch.from_numpy(tensors[prefix + conv_name + '/u']))
    for block in D.model:
        if not case['batchNorm']:
            block.batch_norm = nn.Identity()
        block.activation = ACTIVATIONS[case['activation']](case['alpha'])
    D.double().train()
    params = {}
    for conv_name, conv, bn in layers:
        params[conv_name + '/kernel'] = conv.weight_orig if case['spectralNorm'] else conv.weight
        if conv.bias is not None:
            params[conv_name + '/bias'] = conv.bias
        if bn and case['batchNorm']:
            params[bn[0] + '/gamma'], params[bn[0] + '/beta'] = bn[1].weight, bn[1].bias
    return D, params


def logits(D, x):
    """D's output before the lesson's final Sigmoid, one per image."""
    return D.conv(D.model(x)).reshape(x.shape[0])


def input_gradient(D, x):
    x = x.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(logits(D, x).sum(), x, create_graph=True)
    return gradient


def r1(D, real, _fake, _mix):
    return input_gradient(D, real).pow(2).sum((1, 2, 3)).mean()


def wgan_gp(D, real, fake, mix):
    x_hat = mix * real + (1 - mix) * fake
    return ((input_gradient(D, x_hat).flatten(1).norm(dim=1) - 1) ** 2).mean()


PENALTIES = (('r1', r1), ('wgan-gp', wgan_gp))


def main(directory):
    meta, tensors = read_tensors(directory + '/input')
    torch.manual_seed(0)  # every weight is overwritten; this only fixes the throwaway default init
    out = {}
    for case in meta['cases']:
        name = case['name']
        nchw = lambda t: torch.from_numpy(t).permute(0, 3, 1, 2).double()
        inputs = (nchw(tensors[name + '/real']), nchw(tensors[name + '/fake']), torch.from_numpy(tensors[name + '/mix']).double())
        for variant in ('', '/bn-constants') if case['batchNorm'] else ('',):
            for penalty_name, penalty in PENALTIES:
                # A fresh D for each: spectral norm's power iteration moves u on every training-mode call.
                D, params = build(case, tensors, name + '/D/')
                if variant:
                    for block in D.model:
                        block.batch_norm = SavedConstantsBatchNorm2d(block.batch_norm)
                key = name + '/' + penalty_name + variant
                value = penalty(D, *inputs)
                grads = torch.autograd.grad(value, list(params.values()), allow_unused=True)
                out[key + '/value'] = value.detach().reshape(1).numpy()
                for (weight, param), grad in zip(params.items(), grads):
                    grad = torch.zeros_like(param) if grad is None else grad.detach()
                    out[key + '/grad/' + weight] = (grad.permute(2, 3, 1, 0) if weight.endswith('/kernel') else grad).numpy()
    write_tensors(directory + '/output', {'torch': torch.__version__}, out)


if __name__ == '__main__':
    main(sys.argv[1])
