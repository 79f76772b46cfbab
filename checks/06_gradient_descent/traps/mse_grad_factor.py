def gradient_np(x, y, w, b):
    err = x @ w + b - y
    n = x.shape[0]
    return 1.0 / n * (x.T @ err), float(1.0 / n * np.sum(err))  # the factor 2 is missing
