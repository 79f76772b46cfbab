def to_channels_first(x):
    n, h, w, c = x.shape
    return x.reshape(n, c, h, w)
