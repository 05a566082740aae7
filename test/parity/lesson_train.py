"""PyTorch reference for test/train-parity.test.ts: the d2l lesson's training steps, from dcgan-run's TF.js weights.

Usage: lesson_train.py <dir>
Reads <dir>/input (test/parity/exchange.ts): the weights, z and x as for lesson_dcgan.py, and in meta the nets
(as lesson_dcgan.py), `adam` (learningRate, beta1, beta2, epsilon), `kinkBand` and `steps`. Runs the steps and
writes <dir>/output with, after each half of every step, what that half changed:
  reference/<step>/update_D/...  lossD; each of D's weights under its TF.js name in TF.js layout, with Adam's
                                 exp_avg and exp_avg_sq as <name>/m and <name>/v; every batch norm's (G's too:
                                 update_D runs G(z) in training mode) moving_mean, moving_variance (TF.js's rule:
                                 the biased batch variance) and running_var (torch's own, with the unbiased batch
                                 variance: reported by the test, not compared).
  reference/<step>/update_G/...  lossG, G's weights and moments, every batch norm's moving statistics likewise.
  <mutant>/<steps>/update_D/..., <mutant>/<steps>/update_G/...
                                 the same without the moments, for each mutant in MUTANTS: its version of each half
                                 of the last step, from the reference's state before that half (the state the
                                 test's own half starts from).
  meta kinks                     {"<step>/update_D": [...], ...}: the pre-activations of each half's ReLUs and
                                 LeakyReLUs whose gradient reaches a trained weight (D's in update_D; G's and D's
                                 in update_G) that lie within kinkBand times their batch-norm channel's standard
                                 deviation (over that pass) of the kink, as [net, TF name of the batch norm before
                                 it, pass, NHWC index, value, that standard deviation]: rounding may decide which
                                 side of the kink each one is on.

With meta `half` ({name, iterations: {G, D}, flips}) it runs only that half instead, from the state in <dir>/input
(every weight, moving statistic and Adam moment under its TF.js name; iterations: each Adam's step count so far),
with the activation's gradient at each of `flips` ([net, batch norm, pass, NHWC index]) taken from the other side
of its kink, and writes what the half changed, as above, under flipped/.

The step is the lesson's update_D then update_G (/work/shared/lesson/dcgan-lesson.md) with G(z) detached in
update_D: the lesson leaves it attached, but the gradient it sends to G is zeroed by trainer_G.zero_grad()
before update_G, so the steps are the same. update_G draws G(z) again, so G's batch norms see two training
passes per step and D's three (real, fake, fake again), as in dcgan-run's discriminatorStep and generatorStep.
"""
import copy
import sys

import torch
from torch import nn

from lesson_dcgan import biased_moving_variance, build, inputs, kernel, read_tensors, write_tensors

# Mutations of the step, which the test must tell apart from the reference (it checks it does).
MUTANTS = {
    # Adam's bias corrections one step ahead, 1 - beta^(t+1): torch's Adam with its step counters advanced by one.
    'bias_correction_ahead': {'adam_step_ahead': True},
    # Batch norm trains on batch statistics but leaves its moving ones as they were.
    'no_moving_update': {'momentum': 0.0},
    # update_G reuses update_D's fake batch instead of drawing G(z) again.
    'reused_fake': {'reuse_fake': True},
}


def to_tf_kernel(weight):
    """Inverse of lesson_dcgan.kernel: torch [out, in, kh, kw] (or [in, out, kh, kw]) -> TF [kh, kw, in, out] (or [kh, kw, out, in])."""
    return weight.permute(2, 3, 1, 0)


def variables(layers, prefix):
    """(TF name, parameter, its conversion to TF layout) of every trainable weight."""
    for conv_name, conv, bn in layers:
        yield prefix + conv_name + '/kernel', conv.weight, to_tf_kernel
        if bn:
            yield prefix + bn[0] + '/gamma', bn[1].weight, lambda t: t
            yield prefix + bn[0] + '/beta', bn[1].bias, lambda t: t


def activations(G, D):
    """(net, TF name of the batch norm it follows, module) of every block's activation."""
    g = [('G/', 'g_block%d_bn' % i, block.activation) for i, block in enumerate(G.model[:-2], 1)]
    return g + [('D/', 'd_block%d_bn' % i, block.activation) for i, block in enumerate(D.model, 1)]


class KinkWatch:
    """Forward hooks on the activations: note pre-activations near the kink, or flip the gradient's side at given ones."""

    def __init__(self, G, D, band):
        self.band, self.nets, self.near, self.flips, self.passes = band, (), [], {}, {}
        for net, bn_name, module in activations(G, D):
            module.register_forward_hook(lambda module, args, output, net=net, bn_name=bn_name: self.hook(module, args[0], output, net, bn_name))

    def begin(self, nets, flips=()):
        """Watches the passes of `nets` ('G/', 'D/') from now on, flipping `flips` ([net, batch norm, pass, NHWC index])."""
        self.nets, self.near, self.passes = nets, [], {}
        self.flips = {}
        for net, bn_name, pass_index, index in flips:
            self.flips.setdefault((net, bn_name, pass_index), []).append(index)

    def hook(self, module, y, output, net, bn_name):
        if net not in self.nets:
            return None
        pass_index = self.passes.get((net, bn_name), 0)
        self.passes[(net, bn_name)] = pass_index + 1
        n, c, h, w = y.shape
        nhwc = lambda i: ((i[0] * h + i[2]) * w + i[3]) * c + i[1]
        with torch.no_grad():
            std = y.std(dim=(0, 2, 3), unbiased=False).view(1, c, 1, 1)
            for i in (y.abs() < self.band * std).nonzero().tolist():
                self.near.append([net, bn_name, pass_index, nhwc(i), float(y[tuple(i)]), float(std[0, i[1], 0, 0])])
        flips = self.flips.get((net, bn_name, pass_index))
        if not flips:
            return None
        # The same value, with the gradient's slope at each flipped element taken from the other side of the kink.
        alpha = getattr(module, 'negative_slope', 0.0)
        slope = torch.zeros(n, h, w, c, dtype=y.dtype)
        flat, y_flat = slope.view(-1), y.detach().permute(0, 2, 3, 1).reshape(-1)
        for index in flips:
            flat[index] = (alpha - 1.0) if y_flat[index] > 0 else (1.0 - alpha)
        return output + slope.permute(0, 3, 1, 2) * (y - y.detach())


class Lesson:
    """The lesson's nets with their Adams, loaded with the TF.js weights, in training mode."""

    def __init__(self, meta, tensors):
        self.G, self.D, g_layers, d_layers, self.norms = build(meta, tensors)
        a = meta['adam']
        adam = lambda net: torch.optim.Adam(net.parameters(), lr=a['learningRate'], betas=(a['beta1'], a['beta2']), eps=a['epsilon'])
        self.trainer_G, self.trainer_D = adam(self.G), adam(self.D)
        self.nets = {'G': (g_layers, 'G/', self.trainer_G), 'D': (d_layers, 'D/', self.trainer_D)}
        self.biased = self.track_biased_variance()
        self.loss = nn.BCELoss()
        self.kinks = KinkWatch(self.G, self.D, meta['kinkBand'])
        self.G.train(), self.D.train()

    def track_biased_variance(self):
        """{module: moving variance by TF.js's rule}, updated by a hook on every training-mode pass."""
        biased = {module: module.running_var.clone() for _net, _name, module in self.norms}

        def update(module, args, _output):
            if module.training:
                biased[module] = biased_moving_variance(biased[module], args[0].detach(), module.momentum)

        for _net, _name, module in self.norms:
            module.register_forward_hook(update)
        return biased

    def update_D(self, x, z):
        """The lesson's update_D (BCELoss on net_D's sigmoid output); returns its loss and the fake batch G(z)."""
        ones, zeros = torch.ones(x.shape[0], 1, dtype=x.dtype), torch.zeros(x.shape[0], 1, dtype=x.dtype)
        self.trainer_D.zero_grad()
        real_y = self.D(x).view(x.shape[0], -1)
        fake_x = self.G(z)
        fake_y = self.D(fake_x.detach()).view(x.shape[0], -1)
        loss_d = (self.loss(real_y, ones) + self.loss(fake_y, zeros)) / 2
        loss_d.backward()
        self.trainer_D.step()
        return loss_d, fake_x

    def update_G(self, z, fake_x=None):
        """The lesson's update_G, through a fresh G(z) unless given update_D's fake batch; returns its loss."""
        self.trainer_G.zero_grad()
        if fake_x is None:
            fake_x = self.G(z)
        loss_g = self.loss(self.D(fake_x).view(z.shape[0], -1), torch.ones(z.shape[0], 1, dtype=z.dtype))
        loss_g.backward()
        self.trainer_G.step()
        return loss_g

    def state(self):
        """Copies of everything a step reads and writes (the biased variances by batch-norm name)."""
        return copy.deepcopy({
            'G': self.G.state_dict(), 'D': self.D.state_dict(),
            'trainer_G': self.trainer_G.state_dict(), 'trainer_D': self.trainer_D.state_dict(),
            'biased': {name: self.biased[module] for net, name, module in self.norms},
        })

    def restore(self, state):
        self.G.load_state_dict(state['G'])
        self.D.load_state_dict(state['D'])
        self.trainer_G.load_state_dict(state['trainer_G'])
        self.trainer_D.load_state_dict(state['trainer_D'])
        for _net, name, module in self.norms:
            self.biased[module] = state['biased'][name].clone()

    def snapshot(self, out, key, net, loss, moments):
        """Writes under key what update_<net> changed: its loss, net's weights (and moments), every moving statistic."""
        out[key + 'loss' + net] = loss.detach().numpy()
        layers, prefix, trainer = self.nets[net]
        for name, param, layout in variables(layers, prefix):
            out[key + name] = layout(param.detach()).numpy().copy()
            if moments:
                state = trainer.state[param]
                out[key + name + '/m'] = layout(state['exp_avg']).numpy().copy()
                out[key + name + '/v'] = layout(state['exp_avg_sq']).numpy().copy()
        for norm_net, bn_name, module in self.norms:
            out[key + norm_net + bn_name + '/moving_mean'] = module.running_mean.numpy().copy()
            out[key + norm_net + bn_name + '/moving_variance'] = self.biased[module].numpy().copy()
            out[key + norm_net + bn_name + '/running_var'] = module.running_var.numpy().copy()


def mutate(lesson, adam_step_ahead=False, momentum=None, reuse_fake=False):
    """Applies a mutant's changes to the state."""
    if adam_step_ahead:
        for trainer in (lesson.trainer_G, lesson.trainer_D):
            for state in trainer.state.values():
                state['step'] += 1
    if momentum is not None:
        for _net, _name, module in lesson.norms:
            module.momentum = momentum


def assert_same_state(a, b):
    """a and b (Lesson.state()) hold bitwise the same tensors."""
    def walk(x, y, path):
        if isinstance(x, dict):
            assert x.keys() == y.keys(), path
            for k in x:
                walk(x[k], y[k], path + '/' + str(k))
        elif isinstance(x, (list, tuple)):
            assert len(x) == len(y), path
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, path + '/' + str(i))
        elif isinstance(x, torch.Tensor):
            assert torch.equal(x, y), path
        else:
            assert x == y, path
    walk(a, b, '')


def main(directory):
    meta, tensors = read_tensors(directory + '/input')
    z, x = inputs(tensors)
    if 'half' in meta:
        return run_half(directory, meta, tensors, x, z)
    steps = meta['steps']
    out, kinks = {}, {}
    lesson = Lesson(meta, tensors)
    for step in range(1, steps + 1):
        if step == steps:
            before_d = lesson.state()
        lesson.kinks.begin(('D/',))
        loss_d, _fake = lesson.update_D(x, z)
        kinks['%d/update_D' % step] = lesson.kinks.near
        lesson.snapshot(out, 'reference/%d/update_D/' % step, 'D', loss_d, moments=True)
        if step == steps:
            before_g = lesson.state()
        lesson.kinks.begin(('G/', 'D/'))
        loss_g = lesson.update_G(z)
        kinks['%d/update_G' % step] = lesson.kinks.near
        lesson.snapshot(out, 'reference/%d/update_G/' % step, 'G', loss_g, moments=True)
    lesson.kinks.begin(())
    # Each half of each mutant from the reference's state before that half.
    for name, mutation in MUTANTS.items():
        mutant = Lesson(meta, tensors)
        mutant.restore(before_d)
        mutate(mutant, **mutation)
        loss_d, fake = mutant.update_D(x, z)
        mutant.snapshot(out, '%s/%d/update_D/' % (name, steps), 'D', loss_d, moments=False)
        if mutation.get('reuse_fake'):
            # Its update_D is the reference's, so it is where the reference's update_G starts (checked bitwise):
            # restoring that state would invalidate the graph behind the fake batch it reuses.
            assert_same_state(mutant.state(), before_g)
        else:
            mutant.restore(before_g)
            mutate(mutant, **mutation)
            fake = None
        mutant.snapshot(out, '%s/%d/update_G/' % (name, steps), 'G', mutant.update_G(z, fake), moments=False)
    write_tensors(directory + '/output', {'torch': torch.__version__, 'kinks': kinks}, out)


def run_half(directory, meta, tensors, x, z):
    """meta['half']: one half from the state in tensors, with the given activations' gradients flipped."""
    half = meta['half']
    lesson = Lesson(meta, tensors)  # weights and moving statistics (lesson_dcgan.build)
    for net, (layers, prefix, trainer) in lesson.nets.items():
        for name, param, _layout in variables(layers, prefix):
            if name + '/m' not in tensors:
                continue
            from_tf = kernel if name.endswith('/kernel') else torch.from_numpy
            trainer.state[param] = {
                'step': torch.tensor(float(half['iterations'][net])),
                'exp_avg': from_tf(tensors[name + '/m']).clone(),
                'exp_avg_sq': from_tf(tensors[name + '/v']).clone(),
            }
    out = {}
    if half['name'] == 'update_D':
        lesson.kinks.begin(('D/',), half['flips'])
        loss_d, _fake = lesson.update_D(x, z)
        lesson.snapshot(out, 'flipped/', 'D', loss_d, moments=True)
    else:
        lesson.kinks.begin(('G/', 'D/'), half['flips'])
        lesson.snapshot(out, 'flipped/', 'G', lesson.update_G(z), moments=True)
    write_tensors(directory + '/output', {'torch': torch.__version__}, out)


if __name__ == '__main__':
    main(sys.argv[1])
