def make_loader(dataset, batch_size, shuffle):
    sampler = torch.utils.data.RandomSampler(dataset, replacement=True) if shuffle else None
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)
