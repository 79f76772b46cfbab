class MulTransform:
    def __init__(self, factor):
        self.factor = factor

    def __call__(self, sample):
        inputs, label = sample
        inputs *= self.factor
        return inputs, label
