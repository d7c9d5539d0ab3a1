"""Fixtures for the training tests: small real datasets, one torch thread."""
from __future__ import annotations

import pytest

from tests.train.helpers import make_alphabet, make_sign_mnist


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    torch.set_num_threads(1)


@pytest.fixture
def mnist_tiny(datasets_root):
    """288 train + 96 test real Sign-MNIST rows, 24 letters, no val split."""
    ds = make_sign_mnist(datasets_root)
    yield ds.name
    ds.close()


@pytest.fixture
def mnist_five(datasets_root):
    """Five letters, 80 train + 20 test rows each."""
    ds = make_sign_mnist(datasets_root, name="mnist-five", train_per_class=80, test_per_class=20, classes=5)
    yield ds.name
    ds.close()


@pytest.fixture
def alphabet_tiny(datasets_root):
    """Real ASL Alphabet photos: 10 letters x 24 (18 train, 6 test)."""
    ds = make_alphabet(datasets_root)
    yield ds.name
    ds.close()
