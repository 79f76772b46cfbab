def drop_channel(x):
    return x.squeeze()
