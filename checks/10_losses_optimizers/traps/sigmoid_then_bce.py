def bce_with_logits(logits, targets):
    return nn.BCELoss()(torch.sigmoid(logits), targets)
