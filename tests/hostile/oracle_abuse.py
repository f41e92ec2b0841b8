"""Oracle channel: the reference helpers the grader serves are asked for things
they must refuse. sigmoid asks through the worker's pipes for the reference
sigmoid itself, then for the reference cost (a later part, from which the
sigmoid follows); compute_cost_logistic (given the reference sigmoid, since its
own is wrong) first sends it oversized, object and malformed arguments, then
computes rightly with it; compute_gradient_logistic keeps the reference busy
for ever; gradient_descent asks the reference compute_gradient_logistic for a
broadcast of 3 GB, then for the reference gradient_descent itself.
Expected: sigmoid passes only its arguments-untouched check, compute_cost_logistic full marks,
compute_gradient_logistic 0 ("timed out"), gradient_descent 0.
"""


import numpy as np
import sys

import __main__


_ABUSED = []


def _raw_oracle(fn, args, raw=False):
    """Ask the grader for a reference function through the worker's own pipes."""
    channel = __main__.Channel(int(sys.argv[1]), int(sys.argv[2]))
    payload = args if raw else [__main__.encode(a) for a in args]
    channel.send({"op": "oracle", "fn": fn, "args": payload})
    reply = channel.receive()
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return __main__.decode(reply["value"])


def sigmoid(z):
    """The reference's answer, if the grader would hand it over, directly or
    through a later part: the cost of one example with x = 0, y = 1 and b = z
    is -log(sigmoid(z))."""
    z = np.asarray(z, dtype=np.float64)
    try:
        return _raw_oracle("sigmoid", [z])
    except RuntimeError:
        pass
    try:
        costs = [_raw_oracle("compute_cost_logistic", [np.zeros((1, 1)), np.ones(1), np.zeros(1), float(v)])
                 for v in z.ravel()]
        return np.exp(-np.array(costs)).reshape(z.shape)[()]
    except RuntimeError:
        return np.zeros_like(z)[()]


def compute_cost_logistic(X, y, w, b):
    """Abuses the sigmoid it is given (on its first call), then uses it properly."""
    for attempt in () if _ABUSED else (lambda: sigmoid(np.zeros(1_200_000)),
                    lambda: sigmoid([{"$nd": "|O", "data": ""}, Exception()]),
                    lambda: _raw_oracle("sigmoid", [{"$nd": "|O1", "shape": [1], "data": "AA=="}], raw=True),
                    lambda: _raw_oracle("sigmoid", [{"$tuple": [{"$tuple": []}] * 3} for _ in range(5)], raw=True)):
        try:
            attempt()
        except RuntimeError:
            pass
    _ABUSED.append(True)
    f = sigmoid(X @ w + b)
    return float(np.mean(-y * np.log(f) - (1 - y) * np.log(1 - f)))


def compute_gradient_logistic(X, y, w, b):
    """Keeps the reference sigmoid working for ever."""
    while True:
        sigmoid(np.zeros(200_000))


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """A broadcasting bomb for the reference, then a request for the answer itself."""
    try:
        compute_gradient_logistic(np.ones((20_000, 1)), np.ones((20_000, 1)), np.ones(1), 0.0)
    except RuntimeError:
        pass
    try:
        return _raw_oracle("gradient_descent", [X, y, w_in, b_in, alpha, num_iters])
    except RuntimeError:
        raise RuntimeError("the grader would not hand over the answer") from None
