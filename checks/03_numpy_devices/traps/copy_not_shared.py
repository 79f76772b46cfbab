def tensor_to_numpy(t):
    return np.array(t)


def numpy_to_tensors(a):
    shared = torch.tensor(a)
    copied = torch.tensor(a)
    a += 1
    return shared, copied
