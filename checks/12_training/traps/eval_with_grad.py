def predict(model, loader):
    model.eval()  # eval() switches dropout off, but it does not stop autograd
    device = model_device(model)
    outputs = []
    for inputs, _labels in loader:
        outputs.append(model(inputs.to(device)))
    return torch.cat(outputs)
