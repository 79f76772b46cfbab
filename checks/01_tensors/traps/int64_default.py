def from_python(scores, count, device="cpu"):
    return torch.tensor(scores, device=device), torch.tensor(count, device=device)
