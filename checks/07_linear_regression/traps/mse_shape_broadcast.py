import torch.nn as nn


def mse_loss(pred, target):
    return nn.MSELoss()(pred, target)


def train(x, y, lr, epochs):
    model = nn.Linear(x.shape[1], 1).to(x.device)
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return model, losses
