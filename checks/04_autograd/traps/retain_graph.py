def backward_twice(x):
    y = (x**2 + 3 * x + 5).sum()
    y.backward()
    y.backward()
    return x.grad
