def train_one_epoch(model, loader, loss_fn, optimizer):
    # no model.train(): after an evaluation the model keeps training in eval mode
    device = model_device(model)
    total, count = 0.0, 0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        loss = loss_fn(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
        count += len(labels)
    return total / count
