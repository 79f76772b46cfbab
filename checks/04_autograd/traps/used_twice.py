def reuse_gradient(x):
    f = (x * x + x).sum()
    f.backward()
    xd = x.detach()
    return x.grad, xd + 1
