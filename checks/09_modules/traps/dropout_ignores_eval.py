class DropoutMLP(nn.Module):
    def __init__(self, in_features, hidden, out_features, p):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.p = p
        self.fc2 = nn.Linear(hidden, out_features)

    def forward(self, x):
        # F.dropout has training=True by default: it keeps dropping after model.eval()
        return self.fc2(F.dropout(torch.relu(self.fc1(x)), self.p))
