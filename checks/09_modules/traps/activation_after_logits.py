class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))  # a ReLU after every layer, the output layer too
        return x


class SmallCNN(nn.Module):
    def __init__(self, in_channels, num_classes, height, width):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=3, stride=2, padding=1)
        c, h, w = conv_feature_shape(height, width)
        self.fc = nn.Linear(c * h * w, num_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        x = torch.flatten(x, 1)
        return torch.softmax(self.fc(x), dim=1)  # probabilities instead of logits
