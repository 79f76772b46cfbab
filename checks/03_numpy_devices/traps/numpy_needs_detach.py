def to_numpy(t):
    return t.cpu().numpy()
