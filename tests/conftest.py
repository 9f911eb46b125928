"""Shared test settings: float64 everywhere and fixed seeds, so numbers are reproducible."""

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def float64_and_seeds():
    """Run every test in float64 with torch and numpy seeded."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    np.random.seed(0)
    yield
    torch.set_default_dtype(previous)
