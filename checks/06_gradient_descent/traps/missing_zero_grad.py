def train_autograd(x, y, w0, b0, lr, steps):
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    losses = []
    for _ in range(steps):
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        losses.append(loss.item())  # w.grad and b.grad are never zeroed
    return w.detach(), b.detach(), losses


def train_optim(x, y, w0, b0, lr, steps):
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(x @ w + b, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return w.detach(), b.detach(), losses


def train_linear(x, y, w0, b0, lr, steps):
    model = nn.Linear(x.shape[1], 1, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        model.weight.copy_(w0.reshape(1, -1))
        model.bias.copy_(b0.reshape(1))
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y.reshape(-1, 1))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses
