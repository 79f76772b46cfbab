class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        # a plain list: the layers run, but nn.Module never registers them
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)
