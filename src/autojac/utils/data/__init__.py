"""``autojac.utils.data``: datasets, samplers and the DataLoader of ``torch.utils.data``.

>>> import autojac
>>> from autojac.utils.data import DataLoader, TensorDataset
>>> _ = autojac.manual_seed(0)
>>> [b[0].tolist() for b in DataLoader(TensorDataset(autojac.arange(6)), batch_size=4, shuffle=True)]
[[0, 4, 3, 5], [2, 1]]
"""

from ._collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "default_collate",
           "default_convert", "get_worker_info", "random_split"]
