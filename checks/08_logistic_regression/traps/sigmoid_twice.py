def bce_with_logits_loss(logits, targets):
    return nn.BCEWithLogitsLoss()(torch.sigmoid(logits), targets)  # the loss applies a sigmoid again


def train_classifier(x, y, lr, epochs):
    model = LogisticRegression(x.shape[1]).to(x.device)  # ends in a sigmoid ...
    nn.init.zeros_(model.linear.weight)
    nn.init.zeros_(model.linear.bias)
    loss_fn = nn.BCEWithLogitsLoss()  # ... and this applies another one
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    targets = prepare_labels(y)
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(x), targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return model, losses
