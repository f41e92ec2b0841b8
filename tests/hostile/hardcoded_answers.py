"""Hard-coding: returns the lab's published figures whatever the input: sigmoid
0.5 (sigmoid(0)), a fixed cost, the gradient printed for w = [2, 3], b = 1, and
the lab's printed gradient-descent run. Expected: only the tests that use the
lab's own example (and the arguments-untouched checks) pass; the hidden inputs
catch the rest.
"""


import numpy as np


def sigmoid(z):
    """sigmoid(0), always."""
    return np.full(np.shape(z), 0.5)[()]


def compute_cost_logistic(X, y, w, b):
    """A number seen in the lab."""
    return 0.36686678640551745


def compute_gradient_logistic(X, y, w, b):
    """The lab's printed gradient at w = [2, 3], b = 1."""
    return 0.49861806546328574, np.array([0.498333393278696, 0.49883942983996693])


LAB_COSTS = [0.684610468560574, 0.1590977666870456, 0.08460064176930081, 0.05705327279402531, 0.042907594216820076,
             0.034338477298845684, 0.028603798022120097, 0.024501569608793, 0.02142370332569295, 0.019030137124109114]


def gradient_descent(X, y, w_in, b_in, alpha, num_iters):
    """The lab's printed run, every 1000th cost filled in for the iterations between."""
    history = [LAB_COSTS[i // 1000] for i in range(10000)]
    return np.array([5.28123029178055, 5.078156075159833]), -14.222409982019837, history
