"""deeplimits: numerical experiments on the deep-layer limit of residual neural networks.

The package computes the discrete energy E_N of ResNets of depth N, the continuum energy
E_inf of the limiting ODE-constrained problem, their minimisers, and the quantities that
compare them (Thorpe and van Gennip, "Deep limits of residual neural networks", Research in
the Mathematical Sciences 10, 6, 2023).
"""

from ._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".datasets": ("DATASET_NAMES", "Dataset", "load_dataset", "make_dataset", "pad_features", "save_dataset"),
    ".initialisation": ("InitialFunction", "InitialisationSettings"),
    ".interpolation": ("LegendreFunction", "PiecewiseConstant", "PiecewiseLinear", "align", "distances"),
    ".limit": ("ContinuumParameters", "ContinuumProblem", "ContinuumSettings", "ode_final_state"),
    ".limit_solver": ("ContinuumResult", "refinement_errors", "solve_continuum"),
    ".metric": ("SobolevMetric", "metric_weights"),
    ".optimise": ("LBFGSState", "NonFiniteEnergyError", "OptimisationResult", "minimise"),
    ".regularisers": ("classifier_penalty", "derivative_penalty", "discrete_seminorm", "magnitude_penalty", "scaled_second_differences"),
    ".resnet": ("DiscreteParameters", "EnergyTerms", "classify", "discrete_energy", "forward", "layer_times"),
    ".settings": ("EnergySettings",),
    ".training": ("DiscreteProblem", "OptimiserSettings", "TrainingResult", "train"),
})

__version__ = "0.1.0"
