def flatten_any(x):
    return x.view(-1)
