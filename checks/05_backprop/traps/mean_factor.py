def local_gradients(x, y, w):
    s = w * x - y
    return 2 * s, torch.ones_like(x), x.clone()


def backward_pass(x, y, w):
    s = w * x - y
    dloss_dyhat = 2 * s
    return dloss_dyhat, (dloss_dyhat * x).sum()


def neuron_gradients(x, y, w, b):
    a = torch.tanh(x @ w + b)
    dloss_dz = 2 * (a - y) * (1 - a**2)
    return x.T @ dloss_dz, dloss_dz.sum()
