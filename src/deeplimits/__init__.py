"""deeplimits: numerical experiments on the deep-layer limit of residual neural networks.

The package computes the discrete energy E_N of ResNets of depth N, the continuum energy
E_inf of the limiting ODE-constrained problem, their minimisers, and the quantities that
compare them (Thorpe and van Gennip, "Deep limits of residual neural networks", Research in
the Mathematical Sciences 10, 6, 2023).
"""

from .datasets import DATASET_NAMES, Dataset, load_dataset, make_dataset, pad_features, save_dataset
from .initialisation import InitialFunction, InitialisationSettings
from .interpolation import LegendreFunction, PiecewiseConstant, PiecewiseLinear, align, distances
from .limit import ContinuumParameters, ContinuumProblem, ContinuumSettings, ode_final_state
from .limit_solver import ContinuumResult, refinement_errors, solve_continuum
from .metric import SobolevMetric, metric_weights
from .optimise import LBFGSState, NonFiniteEnergyError, OptimisationResult, minimise
from .regularisers import (
    classifier_penalty,
    derivative_penalty,
    discrete_seminorm,
    magnitude_penalty,
    scaled_second_differences,
)
from .resnet import DiscreteParameters, EnergyTerms, classify, discrete_energy, forward, layer_times
from .settings import EnergySettings
from .training import DiscreteProblem, OptimiserSettings, TrainingResult, train

__version__ = "0.1.0"
