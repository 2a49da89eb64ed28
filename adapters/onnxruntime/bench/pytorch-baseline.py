"""PyTorch baseline for the SimPO logits benchmark (run beside simpo-logits.bench.ts):
    python3 adapters/onnxruntime/bench/pytorch-baseline.py [rows steps vocab]
log_softmax + gather + backward on logits [rows, steps, vocab] (default [8, 256, 32000]),
the last eighth of each sequence ignored, on 2 threads (THREADS=n to change)."""
import os
import sys
import time

import torch

rows, steps, vocab = (int(v) for v in sys.argv[1:4]) if len(sys.argv) > 3 else (8, 256, 32000)
torch.set_num_threads(int(os.environ.get('THREADS', '2')))
torch.manual_seed(0)
logits = (torch.rand(rows, steps, vocab) * 8 - 4).requires_grad_(True)
labels = torch.randint(0, vocab, (rows, steps))
mask = torch.ones(rows, steps)
mask[:, steps - steps // 8:] = 0


def step():
    logits.grad = None
    logps = torch.log_softmax(logits, dim=-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    loss = -(logps * mask).sum() / mask.sum()
    loss.backward()
    return loss


step()
times = []
for _ in range(5):
    start = time.perf_counter()
    step()
    times.append((time.perf_counter() - start) * 1000)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, logits [{rows}, {steps}, {vocab}]: "
      f"mean {sum(times) / len(times):.0f} ms, min {min(times):.0f} ms ({', '.join(f'{t:.0f}' for t in times)})")
