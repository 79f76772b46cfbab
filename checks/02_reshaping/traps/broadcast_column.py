def regression_errors(pred, target):
    residuals = pred - target
    return residuals, (residuals**2).mean()
