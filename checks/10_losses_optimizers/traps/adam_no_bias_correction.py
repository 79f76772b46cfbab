def adam_step(params, exp_avgs, exp_avg_sqs, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    with torch.no_grad():
        for p, m, v in zip(params, exp_avgs, exp_avg_sqs):
            g = p.grad
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            p -= lr * m / (v.sqrt() + eps)
