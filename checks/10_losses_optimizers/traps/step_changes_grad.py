def sgd_step(params, buffers, lr, momentum=0.0, weight_decay=0.0):
    new_buffers = []
    with torch.no_grad():
        for p, buf in zip(params, buffers):
            d = p.grad
            d += weight_decay * p  # in place: this is p.grad itself
            if momentum != 0:
                buf = d.clone() if buf is None else momentum * buf + d
                d = buf
            p -= lr * d
            new_buffers.append(buf if momentum != 0 else None)
    return new_buffers


def adam_step(params, exp_avgs, exp_avg_sqs, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    with torch.no_grad():
        for p, m, v in zip(params, exp_avgs, exp_avg_sqs):
            g = p.grad
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            m_hat = m / (1 - beta1**step)
            v_hat = v / (1 - beta2**step)
            p -= lr * m_hat / (v_hat.sqrt() + eps)
            p.grad.zero_()  # "the step is done, clear the gradient"
