class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, sample):
        for transform in reversed(self.transforms):
            sample = transform(sample)
        return sample
