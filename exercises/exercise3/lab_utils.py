"""Plotting helpers for exercise 3 (logistic regression).

Nothing here is graded and nothing here solves the exercise: the one plot that
needs the sigmoid takes yours as an argument. matplotlib is imported only when
a plot is drawn, so importing this module costs nothing when grading.
"""
import numpy as np

POSITIVE = dict(marker="x", s=70, c="tab:red", linewidths=2, label="y = 1")
NEGATIVE = dict(marker="o", s=70, facecolors="none", edgecolors="tab:blue", linewidths=1.5, label="y = 0")
LAB_AREA = (0.0, 4.0, 0.0, 3.5)  # x0 from, x0 to, x1 from, x1 to: where the lab's data lies


def _axes(ax, size):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def plot_data(X, y, ax=None, area=LAB_AREA):
    """Scatter the two-feature examples X, one marker per class of y; returns the axes."""
    ax = _axes(ax, (4.5, 4))
    X, y = np.asarray(X), np.asarray(y)
    ax.scatter(X[y == 1, 0], X[y == 1, 1], **POSITIVE)
    ax.scatter(X[y == 0, 0], X[y == 0, 1], **NEGATIVE)
    ax.axis(area)
    ax.set_xlabel("$x_0$")
    ax.set_ylabel("$x_1$")
    ax.legend(loc="upper right")
    return ax


def plot_probability(w, b, g, X=None, y=None, ax=None, area=LAB_AREA):
    """Shade the model's probability g(w.x + b) over the plot and draw the
    decision boundary w.x + b = 0 (where the probability is 0.5).

    g is your sigmoid. X and y, when given, are scattered on top.
    """
    ax = _axes(ax, (5.5, 4))
    w = np.asarray(w, dtype=float)
    x0, x1 = np.meshgrid(np.linspace(area[0], area[1], 200), np.linspace(area[2], area[3], 200))
    z = w[0] * x0 + w[1] * x1 + b
    shade = ax.pcolormesh(x0, x1, np.asarray(g(z)), cmap="coolwarm", vmin=0.0, vmax=1.0, shading="auto", alpha=0.5)
    ax.figure.colorbar(shade, ax=ax, label="$f_{w,b}(x)$")
    ax.contour(x0, x1, z, levels=[0.0], colors="black", linewidths=1.5)
    ax.plot([], [], color="black", label="boundary $w \\cdot x + b = 0$")
    if X is not None and y is not None:
        plot_data(X, y, ax, area)
    else:
        ax.axis(area)
        ax.legend(loc="upper right")
    return ax


def plot_one_feature(x, y, ax=None, w=None, b=None, g=None):
    """Plot one-feature examples at height y (0 or 1), one marker per class; with
    w, b and your sigmoid g, also the model's curve g(w x + b)."""
    ax = _axes(ax, (5, 3.5))
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y)
    ax.scatter(x[y == 1], y[y == 1], **POSITIVE)
    ax.scatter(x[y == 0], y[y == 0], **NEGATIVE)
    if w is not None and b is not None and g is not None:
        grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 200)
        weight = float(np.ravel(w)[0])
        ax.plot(grid, np.asarray(g(weight * grid + b)), color="tab:purple",
                label=f"g({weight:g} x {'-' if b < 0 else '+'} {abs(b):g})")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_ylim(-0.15, 1.15)
    ax.legend(loc="center right")
    return ax
