def fresh_gradient(w, x):
    loss = ((x @ w) ** 2).mean()
    loss.backward()
    return w.grad
