def from_python(scores, count, device="cpu"):
    return torch.Tensor(scores).to(device), torch.Tensor(count).to(device)
