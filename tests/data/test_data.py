"""``utils.data`` against PyTorch 2.13: shuffled batch order under manual_seed, random_split,
samplers, collation and errors."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import autojac
import autojac.utils.data as aud

X = np.arange(23 * 3, dtype=np.float32).reshape(23, 3)
Y = np.arange(23) % 4


def _loader(lib, mod, **kw):
    ds = mod.TensorDataset(lib.tensor(X), lib.tensor(Y))
    return mod.DataLoader(ds, **kw)


def _batches(loader):
    return [[t.tolist() for t in b] for b in loader]


@pytest.mark.parametrize("kw", [
    {"batch_size": 5},
    {"batch_size": 5, "drop_last": True},
    {"batch_size": 4, "shuffle": True},
    {"batch_size": 6, "shuffle": True, "drop_last": True},
    {"batch_size": 1, "shuffle": True},
    {"batch_size": None},
])
@pytest.mark.parametrize("seed", [0, 1234])
def test_batches_match_torch_under_manual_seed(kw, seed):
    autojac.manual_seed(seed)
    torch.manual_seed(seed)
    got_loader, want_loader = _loader(autojac, aud, **kw), _loader(torch, tud, **kw)
    assert len(got_loader) == len(want_loader)
    for _ in range(3):  # epochs: the default generator moves on the same way
        assert _batches(got_loader) == _batches(want_loader)
    assert autojac.rand(3).tolist() == torch.rand(3).tolist()  # and is left in the same state


def test_generator_argument_matches_torch():
    g, tg = autojac.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    got = _loader(autojac, aud, batch_size=8, shuffle=True, generator=g)
    want = _loader(torch, tud, batch_size=8, shuffle=True, generator=tg)
    for _ in range(2):
        assert _batches(got) == _batches(want)


def test_batch_dtypes_and_shapes_match_torch():
    (gx, gy), (wx, wy) = next(iter(_loader(autojac, aud, batch_size=4))), next(iter(_loader(torch, tud, batch_size=4)))
    assert gx.shape == tuple(wx.shape) and gy.shape == tuple(wy.shape)
    assert gx.dtype is autojac.float32 and gy.dtype is autojac.int64


@pytest.mark.parametrize("lengths", [[10, 13], [0.3, 0.7], [0.25, 0.25, 0.5], [1, 1, 21]])
@pytest.mark.parametrize("seeded", ["manual_seed", "generator"])
def test_random_split_matches_torch(lengths, seeded):
    if seeded == "manual_seed":
        autojac.manual_seed(3)
        torch.manual_seed(3)
        got, want = aud.random_split(range(23), lengths), tud.random_split(range(23), lengths)
    else:
        got = aud.random_split(range(23), lengths, generator=autojac.Generator().manual_seed(5))
        want = tud.random_split(range(23), lengths, generator=torch.Generator().manual_seed(5))
    assert [list(s) for s in got] == [list(s) for s in want]
    assert [s.indices for s in got] == [s.indices for s in want]


def test_random_split_errors_match_torch():
    for lengths in ([5, 5], [1.2, -0.2]):
        with pytest.raises(ValueError) as want:
            tud.random_split(range(23), lengths)
        with pytest.raises(ValueError) as got:
            aud.random_split(range(23), lengths)
        assert str(got.value) == str(want.value)


@pytest.mark.parametrize("kw", [{}, {"replacement": True, "num_samples": 70}, {"num_samples": 50}])
def test_random_sampler_matches_torch(kw):
    got = list(aud.RandomSampler(range(23), generator=autojac.Generator().manual_seed(11), **kw))
    want = list(tud.RandomSampler(range(23), generator=torch.Generator().manual_seed(11), **kw))
    assert got == want
    autojac.manual_seed(4)
    torch.manual_seed(4)
    assert list(aud.RandomSampler(range(9), **kw)) == list(tud.RandomSampler(range(9), **kw))


def test_subset_random_sampler_and_subset_match_torch():
    got = list(aud.SubsetRandomSampler([3, 5, 7, 9], generator=autojac.Generator().manual_seed(2)))
    want = list(tud.SubsetRandomSampler([3, 5, 7, 9], generator=torch.Generator().manual_seed(2)))
    assert got == want
    sub = aud.Subset(aud.TensorDataset(autojac.tensor(X)), [4, 2])
    assert len(sub) == 2 and sub[1][0].tolist() == X[2].tolist()


Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize("batch", [
    [1, 2, 3],
    [1.5, 2.5],
    [True, False],
    ["a", "b"],
    [np.float32(1.5), np.float32(2.0)],
    [np.arange(3), np.arange(3) + 1],
    [{"a": 1.0, "b": [1, 2]}, {"a": 2.0, "b": [3, 4]}],
    [(1, 2.0), (3, 4.0)],
    [[1, 2], [3, 4]],
    [Point(1, 2.0), Point(3, 4.0)],
])
def test_default_collate_matches_torch(batch):
    def norm(x):
        if isinstance(x, (autojac.Tensor, torch.Tensor)):
            return ("T", str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist())
        if isinstance(x, dict):
            return {k: norm(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return (type(x).__name__, [norm(v) for v in x])
        return x

    got = aud.default_collate(batch)
    want = tud.default_collate([_to_torch(b) for b in batch])
    assert norm(got) == norm(want)


def _to_torch(x):
    return x  # the samples above hold no autojac tensors


def test_default_collate_stacks_tensors_and_errors_like_torch():
    got = aud.default_collate([autojac.ones(2), autojac.zeros(2)])
    assert got.tolist() == [[1.0, 1.0], [0.0, 0.0]]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        aud.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError) as want:
        tud.default_collate([object()])
    with pytest.raises(TypeError) as got_e:
        aud.default_collate([object()])
    assert str(got_e.value).split("found")[0] == str(want.value).split("found")[0]


class Squares(aud.Dataset):
    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"x": float(i), "y": i * i}


class TSquares(tud.Dataset):
    __len__ = Squares.__len__
    __getitem__ = Squares.__getitem__


def test_map_dataset_with_dict_samples_and_collate_fn():
    autojac.manual_seed(9)
    torch.manual_seed(9)
    got = list(aud.DataLoader(Squares(), batch_size=3, shuffle=True))
    want = list(tud.DataLoader(TSquares(), batch_size=3, shuffle=True))
    assert [{k: v.tolist() for k, v in b.items()} for b in got] == [{k: v.tolist() for k, v in b.items()}
                                                                      for b in want]
    assert got[0]["x"].dtype is autojac.float64
    assert list(aud.DataLoader(Squares(), batch_size=2, collate_fn=len)) == [2, 2, 2, 1]


class Stream(aud.IterableDataset):
    def __iter__(self):
        return iter(range(10))


def test_iterable_dataset_batches_and_errors():
    assert [b.tolist() for b in aud.DataLoader(Stream(), batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [b.tolist() for b in aud.DataLoader(Stream(), batch_size=4, drop_last=True)] == [[0, 1, 2, 3],
                                                                                             [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        aud.DataLoader(Stream(), shuffle=True)


def test_concat_dataset_and_batch_sampler_len():
    ds = aud.TensorDataset(autojac.tensor(X)) + aud.TensorDataset(autojac.tensor(X[:4]))
    assert len(ds) == 27 and ds[-1][0].tolist() == X[3].tolist() and ds[23][0].tolist() == X[0].tolist()
    assert len(aud.BatchSampler(range(10), 3, False)) == 4 and len(aud.BatchSampler(range(10), 3, True)) == 3


@pytest.mark.parametrize("make", [
    lambda m, ds: m.DataLoader(ds, sampler=m.SequentialSampler(ds), shuffle=True),
    lambda m, ds: m.DataLoader(ds, batch_sampler=m.BatchSampler(m.SequentialSampler(ds), 2, False), batch_size=3),
    lambda m, ds: m.DataLoader(ds, batch_size=None, drop_last=True),
    lambda m, ds: m.DataLoader(ds, num_workers=-1),
    lambda m, ds: m.DataLoader(ds, prefetch_factor=2),
    lambda m, ds: m.DataLoader(ds, persistent_workers=True),
    lambda m, ds: m.BatchSampler(m.SequentialSampler(ds), 0, False),
    lambda m, ds: m.BatchSampler(m.SequentialSampler(ds), 2, 1),
    lambda m, ds: m.RandomSampler(ds, replacement=1),
    lambda m, ds: m.RandomSampler(ds, num_samples=0),
    lambda m, ds: m.TensorDataset(ds.tensors[0], ds.tensors[0][:3]),
])
def test_errors_match_torch(make):
    with pytest.raises(Exception) as want:
        make(tud, tud.TensorDataset(torch.tensor(X)))
    with pytest.raises(type(want.value)) as got:
        make(aud, aud.TensorDataset(autojac.tensor(X)))
    assert str(got.value) == str(want.value)


def test_seeded_training_loop_reproduces_torch():
    """Shuffled minibatch SGD on a linear model: the same batches, hence the same loss curve."""
    def run(lib, mod):
        lib.manual_seed(0)
        ds = mod.TensorDataset(lib.tensor(X / 50, dtype=lib.float64), lib.tensor(Y, dtype=lib.float64))
        w = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
        losses = []
        for _ in range(3):
            for x, y in mod.DataLoader(ds, batch_size=5, shuffle=True):
                opt.zero_grad()
                loss = ((x @ w - y) ** 2).mean()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return losses

    np.testing.assert_allclose(run(autojac, aud), run(torch, tud), rtol=1e-12)
