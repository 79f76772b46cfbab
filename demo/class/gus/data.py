"""Unit 11: data -- Dataset, DataLoader, transforms (reference solution)."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

Sample = tuple[Any, Any]


# --------------------------------------------------------------------------
# D1: a custom Dataset over a CSV file


def read_wine_csv(path: str) -> tuple[np.ndarray, np.ndarray]:
    xy = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    features = xy[:, 1:]
    labels = xy[:, 0].astype(np.int64)
    return features, labels


class WineDataset(Dataset):
    def __init__(self, path: str, transform: Callable[[Sample], Any] | None = None) -> None:
        self.x, self.y = read_wine_csv(path)
        self.n_samples = self.x.shape[0]
        self.transform = transform

    def __len__(self) -> int:
        return self.n_samples

    def __getitem__(self, index: int) -> Any:
        sample = (self.x[index], self.y[index])
        if self.transform is not None:
            sample = self.transform(sample)
        return sample


# --------------------------------------------------------------------------
# D2: DataLoader: batches, shuffling, iterations per epoch


def iterations_per_epoch(n_samples: int, batch_size: int, drop_last: bool = False) -> int:
    if drop_last:
        return n_samples // batch_size
    return math.ceil(n_samples / batch_size)


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool) -> DataLoader:
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def class_counts(loader: DataLoader, num_classes: int) -> torch.Tensor:
    counts = torch.zeros(num_classes, dtype=torch.int64)
    for _inputs, labels in loader:
        counts += torch.bincount(labels, minlength=num_classes)
    return counts


# --------------------------------------------------------------------------
# D3: transforms


class ToTensor:
    def __call__(self, sample: Sample) -> tuple[torch.Tensor, torch.Tensor]:
        inputs, label = sample
        return torch.from_numpy(inputs), torch.as_tensor(label)


class MulTransform:
    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, sample: Sample) -> Sample:
        inputs, label = sample
        return inputs * self.factor, label


class Compose:
    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Any) -> Any:
        for transform in self.transforms:
            sample = transform(sample)
        return sample


# --------------------------------------------------------------------------
# D1 + D2 + D3: the whole input pipeline


def make_wine_loader(path: str, batch_size: int, factor: float) -> DataLoader:
    dataset = WineDataset(path, transform=Compose([ToTensor(), MulTransform(factor)]))
    return make_loader(dataset, batch_size, shuffle=True)
