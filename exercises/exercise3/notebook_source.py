# The source of exercise3.ipynb. Rebuild the notebook after editing this file,
# the stubs in logistic_regression.py or the quiz in exercise.toml:
#
#     grade build-notebook exercise3
#
# This file stays valid Python (no IPython magics), so tools can read it.
# Cells start at "# %%" lines:
#   # %% [markdown]      a text cell; each line loses its leading "# "
#   # %%                 a code cell that runs when the notebook is graded
#   # %% demo            a code cell that only shows the student's functions at
#                        work; grading keeps only its imports and definitions
#   # %% student NAME    the stub of function NAME from logistic_regression.py,
#                        a cell the student fills in (tagged "student")
#   # %% quiz            the questions of exercise.toml and a cell for the answers

# %% [markdown]
# # Exercise 3: logistic regression by gradient descent
#
# A logistic regression model gives the probability that an example belongs
# to class 1. In this lab you write the four functions that train such a model
# with gradient descent, then watch it learn to separate a small data set with
# two features.
#
# **Where to work.** Fill in the four cells that start with `def` and still
# raise `NotImplementedError` (their cell tag is `student`), and answer the
# quiz in the last code cell. If you prefer an editor, write the same
# functions in `logistic_regression.py` instead: either file can be graded.
# The other code cells only call your functions and draw plots.
#
# **Checking your work.** After each function comes a cell that runs
# `check("sigmoid")` (and so on): the grader's tests on that function as this
# notebook defines it now, without saving. After editing a function, run its
# cell again, then its check cell. The last cell, `check()`, checks everything,
# quiz included. From the student bundle these are the public checks (the worked
# examples of this notebook and whether each quiz question has an answer): the
# hidden tests your instructor runs decide the grade.
#
# To grade the saved notebook from a terminal, run `grade exercise3`. It grades
# this notebook when `logistic_regression.py` still holds only the stubs
# (`--submission exercise3.ipynb` picks the notebook in any case).

# %%
import numpy as np
from lab_utils import plot_data, plot_probability, plot_one_feature

# %% [markdown]
# ## 1. The data
#
# Six examples, each with two features $x_0$ and $x_1$. The first three are
# labelled 0, the last three 1. `X_train` holds one example per row, so its
# shape is $(m, n) = (6, 2)$.

# %%
X_train = np.array([[0.5, 1.5], [1.0, 1.0], [1.5, 0.5], [3.0, 0.5], [2.0, 2.0], [1.0, 2.5]])
y_train = np.array([0, 0, 0, 1, 1, 1])
print("X_train:", X_train.shape, " y_train:", y_train)

# %% demo
plot_data(X_train, y_train);

# %% [markdown]
# The classes can be split by a straight line: that line is what training
# should find.
#
# ## 2. The model and the sigmoid
#
# The model sends a linear score through the sigmoid (or logistic) function $g$:
#
# $$f_{\mathbf{w},b}(\mathbf{x}) = g(\mathbf{w} \cdot \mathbf{x} + b), \qquad g(z) = \frac{1}{1 + e^{-z}}$$
#
# $g$ maps every real $z$ into the interval $(0, 1)$ and $g(0) = 0.5$, so
# $f_{\mathbf{w},b}(\mathbf{x})$ reads as the probability that $y = 1$.
#
# **Your code:** `sigmoid(z)`, for a number or a numpy array of any shape.
# `np.exp` works elementwise on arrays (`math.exp` does not). A very large
# $|z|$ should give a value at or next to 0 or 1, never `nan`.

# %% student sigmoid

# %% demo
print(sigmoid(np.array([-4.0, -1.0, 0.0, 1.0, 4.0])))

# %% [markdown]
# ## 3. The cost
#
# The cost of $(\mathbf{w}, b)$ on $m$ examples is the mean logistic loss:
#
# $$J(\mathbf{w},b) = \frac{1}{m} \sum_{i=0}^{m-1} \Big[ -y^{(i)} \log f_{\mathbf{w},b}(\mathbf{x}^{(i)}) - \big(1 - y^{(i)}\big) \log\big(1 - f_{\mathbf{w},b}(\mathbf{x}^{(i)})\big) \Big]$$
#
# Only one of the two terms is active for each example: the one of its label.
# A confident wrong prediction costs a lot, a confident right one almost
# nothing.
#
# **Your code:** `compute_cost_logistic(X, y, w, b)`. With $\mathbf{w} = 0$ and
# $b = 0$ every prediction is 0.5, so the cost is $\log 2 \approx 0.693147$ on
# any data.

# %% student compute_cost_logistic

# %% demo
print("cost at w = [0, 0], b = 0:", compute_cost_logistic(X_train, y_train, np.zeros(2), 0.0))

# %% [markdown]
# ## 4. The gradient
#
# With the error of example $i$ written $e^{(i)} = f_{\mathbf{w},b}(\mathbf{x}^{(i)}) - y^{(i)}$:
#
# $$\frac{\partial J}{\partial w_j} = \frac{1}{m} \sum_{i=0}^{m-1} e^{(i)} x_j^{(i)} \qquad \frac{\partial J}{\partial b} = \frac{1}{m} \sum_{i=0}^{m-1} e^{(i)}$$
#
# **Your code:** `compute_gradient_logistic(X, y, w, b)`, returning the pair
# `(dj_db, dj_dw)` in that order, with `dj_dw` of the same shape as `w`.
# At $\mathbf{w} = [2, 3]$, $b = 1$ on the training data the next cell should
# print `dj_db` = 0.49861806546328574 and `dj_dw` = [0.498333393278696, 0.49883942983996693].

# %% student compute_gradient_logistic

# %% demo
dj_db, dj_dw = compute_gradient_logistic(X_train, y_train, np.array([2.0, 3.0]), 1.0)
print("dj_db:", dj_db)
print("dj_dw:", np.asarray(dj_dw).tolist())

# %% [markdown]
# ## 5. Gradient descent
#
# Each step moves the parameters a little against the gradient, with the
# learning rate $\alpha$ setting the step size:
#
# $$w_j := w_j - \alpha \frac{\partial J}{\partial w_j} \quad (j = 0, \dots, n-1) \qquad b := b - \alpha \frac{\partial J}{\partial b}$$
#
# The update is simultaneous: compute both gradients at the current
# $(\mathbf{w}, b)$ first, then change the parameters.
#
# **Your code:** `gradient_descent(X, y, w_in, b_in, alpha, num_iters)`, which
# returns `(w, b, J_history)`: the trained parameters and the list of costs,
# one after each update. Leave `w_in` itself unchanged.
#
# The next cell starts from $\mathbf{w} = [0, 0]$, $b = 0$ and makes 10000 updates
# with $\alpha = 0.1$. It should print a cost of about 0.684610468560574 at
# iteration 0 and 0.019030137124109114 at iteration 9000, and end near
# $\mathbf{w} = [5.28, 5.08]$, $b = -14.2224$.

# %% student gradient_descent

# %% demo
w_out, b_out, J_history = gradient_descent(X_train, y_train, np.zeros(2), 0.0, 0.1, 10000)
for i in range(0, len(J_history), 1000):
    print(f"iteration {i:5d}: cost {J_history[i]}")
print("w:", w_out, " b:", b_out)

# %% [markdown]
# ## 6. The decision boundary
#
# The model predicts class 1 when $f_{\mathbf{w},b}(\mathbf{x}) \ge 0.5$, that is
# when $\mathbf{w} \cdot \mathbf{x} + b \ge 0$. The boundary between the classes
# is the line $\mathbf{w} \cdot \mathbf{x} + b = 0$. Below, the colour is the
# probability your trained model gives (computed with your `sigmoid`) and the
# black line is the boundary.

# %% demo
plot_probability(w_out, b_out, sigmoid, X_train, y_train);

# %% [markdown]
# ## 7. A data set with one feature
#
# With a single feature the model is $g(w x + b)$ and can be drawn as a curve.
# Here $x$ runs from 0 to 5 and the label switches from 0 to 1 between
# $x = 2$ and $x = 3$. The parameters $w = 2$, $b = -5$ put the boundary at
# $x = 2.5$; the next cell prints their cost (about 0.122855) and draws the curve.

# %%
x_one = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
y_one = np.array([0, 0, 0, 1, 1, 1])

# %% demo
print("cost at w = [2], b = -5:", compute_cost_logistic(x_one.reshape(-1, 1), y_one, np.array([2.0]), -5.0))
plot_one_feature(x_one, y_one, w=[2.0], b=-5.0, g=sigmoid);

# %% [markdown]
# ## 8. Logistic and linear regression
#
# Linear regression trained by gradient descent uses the same two update
# formulas, with $f_{\mathbf{w},b}(\mathbf{x}) = \mathbf{w} \cdot \mathbf{x} + b$.
# Keep that in mind for the first question.

# %% quiz
