def sgd_step(w, x, target, lr):
    loss = ((x @ w - target) ** 2).mean()
    loss.backward()
    w -= lr * w.grad
    w.grad.zero_()
    return loss.detach()
