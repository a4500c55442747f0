"""Where PyTorch keeps the benchmark classes (``torch.utils.benchmark.utils.common`` / ``.timer``)."""
