"""Tests of the validation of energy, optimiser and initialisation settings."""

import pytest

from deeplimits.initialisation import InitialFunction, InitialisationSettings
from deeplimits.settings import EnergySettings
from deeplimits.training import OptimiserSettings


@pytest.mark.parametrize(
    "values, message",
    [
        ({"alpha": -1.0}, r"alpha must be a finite number >= 0, got -1.0"),
        ({"beta": 0.0}, r"beta must be a finite number > 0, got 0.0: .* set beta to a small positive value"),
        ({"p": 1.0}, r"p must be a finite number > 1, got 1.0"),
        ({"q": float("nan")}, r"q must be a finite number >= 0, got nan"),
        ({"activation": "sigmoid"}, r"unknown activation 'sigmoid'; choose one of \['tanh', 'relu', 'identity'\]"),
        ({"loss": "hinge"}, r"unknown loss 'hinge'; choose one of \['cross_entropy', 'squared'\]"),
        ({"state_dim": 0}, r"state_dim must be an integer >= 1, got 0"),
    ],
)
def test_energy_settings_reject(values, message):
    with pytest.raises(ValueError, match=message):
        EnergySettings(**values)


def test_energy_settings_reject_unknown_key():
    with pytest.raises(ValueError, match=r"unknown energy settings \['alpah'\]; valid keys are"):
        EnergySettings.from_dict({"alpah": 1.0})


def test_ode_limit_setting():
    assert EnergySettings(alpha=0.1, p=2.0, q=1.0).has_ode_limit
    assert not EnergySettings(alpha=0.0).has_ode_limit
    assert not EnergySettings(q=2.0).has_ode_limit


@pytest.mark.parametrize(
    "values, message",
    [
        ({"tolerance": 0.0}, r"tolerance must be a finite number > 0, got 0.0"),
        ({"max_iter": 0}, r"max_iter must be an integer >= 1, got 0"),
        ({"alpha_floor": -1.0}, r"alpha_floor must be a finite number >= 0"),
    ],
)
def test_optimiser_settings_reject(values, message):
    with pytest.raises(ValueError, match=message):
        OptimiserSettings(**values)


def test_initialisation_rejects_unknown_kind():
    with pytest.raises(ValueError, match=r"unknown initialisation 'zeros'; choose one of \['smooth', 'iid'\]"):
        InitialisationSettings(kind="zeros")


def test_smooth_start_is_shared_by_depths():
    start = InitialFunction(InitialisationSettings(), restart=2, state_dim=2, n_classes=3)

    coarse = start.layers(4)
    fine = start.layers(8)

    # t_k = k/4 is t_{2k} = 2k/8: the same function sampled on both grids.
    assert (coarse == fine[::2]).all()


def test_restarts_differ_and_repeat():
    settings = InitialisationSettings(kind="iid")
    first = InitialFunction(settings, 0, 2, 2).layers(5)

    assert (first == InitialFunction(settings, 0, 2, 2).layers(5)).all()
    assert not (first == InitialFunction(settings, 1, 2, 2).layers(5)).all()
