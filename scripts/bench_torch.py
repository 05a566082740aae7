"""Times the lesson's DCGAN training step in PyTorch (CPU), for scripts/bench.ts to compare against.

Usage: bench_torch.py <batch> <steps> <warmup> <threads> [impls]. Prints a JSON line for each of the lesson's step as written
(pytorch-lesson) and the same step with the fake batch detached in update_D (pytorch), or those named.
The step is the lesson's update_D then update_G (Adam lr 0.005, betas (0.5, 0.999), BCE), on random
images in [-1, 1]: the data pipeline is not part of PyTorch's figure.
"""
import json
import os
import re
import sys
import time

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'test', 'parity'))
from lesson_dcgan import net_D, net_G  # noqa: E402


def blas():
    config = torch.__config__.show()
    found = re.search(r'BLAS_INFO=([^,\s]+)', config)
    mkldnn = 'oneDNN' if torch.backends.mkldnn.is_available() else 'no oneDNN'
    # A build against the generic BLAS interface uses whichever libblas is installed (Debian's alternatives).
    with open('/proc/self/maps') as maps:
        loaded = sorted({line.split()[-1].split('/')[-1] for line in maps if 'blas' in line.lower()})
    return f"{found.group(1) if found else 'unknown'} BLAS ({', '.join(loaded) or 'none loaded'}), {mkldnn}"


def time_steps(batch, steps, warmup, detach):
    """Median seconds per step. detach=False is the lesson's update_D as written: D's loss also backpropagates
    into G (whose gradients update_G then zeroes). detach=True stops it there, as our step does: the same
    updates for less work, so it is the baseline our ratio is taken against."""
    torch.manual_seed(0)
    G, D = net_G(100), net_D(3)
    loss = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=0.005, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=0.005, betas=(0.5, 0.999))
    X = torch.rand(batch, 3, 64, 64) * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        Z = torch.randn(batch, 100, 1, 1)
        opt_d.zero_grad()
        fake = G(Z)
        loss_d = (loss(D(X).view(batch, -1), ones) + loss(D(fake.detach() if detach else fake).view(batch, -1), zeros)) / 2
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = loss(D(G(Z)).view(batch, -1), ones)
        loss_g.backward()
        opt_g.step()
        loss_d.item(), loss_g.item()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    batch, steps, warmup, threads = (int(a) for a in sys.argv[1:5])
    wanted = sys.argv[5].split(',') if len(sys.argv) > 5 else ['pytorch-lesson', 'pytorch']
    torch.set_num_threads(threads)
    about = {'version': torch.__version__, 'blas': blas(), 'threads': threads, 'batch': batch, 'steps': steps}
    for impl, detach in (('pytorch-lesson', False), ('pytorch', True)):
        if impl not in wanted:
            continue
        seconds = time_steps(batch, steps, warmup, detach)
        print(json.dumps({'impl': impl, **about, 'secondsPerStep': seconds, 'imagesPerSec': batch / seconds}), flush=True)


main()
