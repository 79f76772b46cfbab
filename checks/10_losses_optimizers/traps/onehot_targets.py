def make_targets(labels, classes, device="cpu"):
    index = torch.tensor([classes.index(label) for label in labels])
    return torch.nn.functional.one_hot(index, len(classes)).float().to(device)
