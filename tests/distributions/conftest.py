"""torch on one thread here: tiny tensors, a shared 2-core machine (thread oversubscription costs seconds)."""

import torch

torch.set_num_threads(1)
