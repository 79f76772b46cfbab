def prepare_labels(y):
    return y.float()  # still (N,): only the dtype was changed


def bce_loss(probs, labels):
    return nn.BCELoss()(probs, labels)  # (N,) int64 labels straight from the data


def accuracy(probs, labels):
    return ((probs >= 0.5).long() == labels).float().mean().item()  # (N, 1) == (N,) broadcasts to (N, N)
