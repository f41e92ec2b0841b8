"""Public checks for sigmoid: values of 1 / (1 + e^(-z)) the lab shows."""
import numpy as np
import pytest

from grader.testing import check


@pytest.mark.points(1)
def test_number_in_number_out(student):
    """sigmoid(1.0) is a number"""
    check(student.sigmoid(1.0), 0.7310585786300049, "sigmoid(1.0)")


@pytest.mark.points(2)
def test_notebook_example(student):
    """sigmoid of the notebook's array [-4, -1, 0, 1, 4]"""
    got = student.sigmoid(np.array([-4.0, -1.0, 0.0, 1.0, 4.0]))
    check(got, np.array([0.01798620996209156, 0.2689414213699951, 0.5, 0.7310585786300049, 0.9820137900379085]),
          "sigmoid([-4, -1, 0, 1, 4])")


@pytest.mark.points(2)
def test_keeps_shape(student, training_data):
    """sigmoid of a 2-D array (the training data) keeps its shape"""
    X, _ = training_data
    expected = np.array([[0.6224593312018546, 0.8175744761936437], [0.7310585786300049, 0.7310585786300049],
                         [0.8175744761936437, 0.6224593312018546], [0.9525741268224334, 0.6224593312018546],
                         [0.8807970779778823, 0.8807970779778823], [0.7310585786300049, 0.9241418199787566]])
    check(student.sigmoid(X), expected, "sigmoid(X_train)")
