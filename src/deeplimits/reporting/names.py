"""Names of the report's figures and tables, importable without matplotlib.

The command line offers these names as choices; :data:`deeplimits.reporting.figures.FIGURES`
and :data:`deeplimits.reporting.tables.TABLES` map each to the code that draws or builds
it, and a test keeps the two in step.
"""

FIGURE_NAMES = (
    "forward_consistency",
    "recovery_sequence",
    "energy_convergence",
    "parameter_convergence",
    "weight_paths",
    "regularity",
    "feature_flow",
    "no_derivative_penalty",
    "regulariser_scaling",
    "generalisation",
    "compute_cost",
)

TABLE_NAMES = ("convergence", "branches", "claims", "refinement", "compute_cost")
