def iterations_per_epoch(n_samples, batch_size, drop_last=False):
    return n_samples // batch_size


def make_loader(dataset, batch_size, shuffle):
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=True)


def class_counts(loader, num_classes):
    counts = torch.zeros(num_classes, dtype=torch.int64)
    batches = iter(loader)
    for _ in range(len(loader.dataset) // loader.batch_size):
        _inputs, labels = next(batches)
        counts += torch.bincount(labels, minlength=num_classes)
    return counts
