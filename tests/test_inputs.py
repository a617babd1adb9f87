"""User values are checked before anything is built or sent."""

from __future__ import annotations

import pytest

from sindri_jupyter import _commands, _validate
from sindri_jupyter._errors import InputError


def test_ports_split_on_commas_and_keep_order():
    assert _validate.ports("8888/http, 22/tcp") == ("8888/http", "22/tcp")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("22/udp", "only http and tcp"),
        ("70000/tcp", "out of range"),
        ("8888/http;22/tcp", "separate several ports with commas"),
        ("http/8888", "is not <port>/<http|tcp>"),
    ],
)
def test_bad_ports_are_refused_with_the_reason(value, reason):
    with pytest.raises(InputError) as caught:
        _validate.ports(value)
    assert reason in str(caught.value)
    assert value.split(",")[0] in str(caught.value)
    assert caught.value.option == "--ports"


def test_env_splits_on_the_first_equals_only():
    assert _validate.env_pair("DSN=postgres://u@h/db?sslmode=require") == (
        "DSN",
        "postgres://u@h/db?sslmode=require",
    )
    assert _validate.env_pair("A=b=c") == ("A", "b=c")


def test_env_without_equals_is_refused():
    with pytest.raises(InputError, match="NOEQUALS.*KEY=VALUE"):
        _validate.env_pair("NOEQUALS")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("3h", 10800), ("1d", 86400), ("45", 45)],
)
def test_durations_take_units(text, seconds):
    assert _validate.duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-5m", "0s", "3 weeks"])
def test_bad_durations_name_the_value(text):
    with pytest.raises(InputError) as caught:
        _validate.duration(text)
    assert "--timeout" in str(caught.value)


def test_quoted_gpu_ids_parse_both_ways():
    _, spaced = _commands.parse(
        "deploy runpod --gpu \"NVIDIA A100 80GB PCIe\" --name 'my pod'"
    )
    _, joined = _commands.parse('deploy runpod --gpu="NVIDIA A100 80GB PCIe"')
    assert spaced.gpu == joined.gpu == "NVIDIA A100 80GB PCIe"
    assert spaced.name == "my pod"


def test_unbalanced_quote_is_a_usage_line():
    with pytest.raises(InputError, match="close every quote"):
        _commands.parse("deploy runpod --gpu 'A100")


def test_unknown_option_names_itself():
    with pytest.raises(InputError, match="--gpus"):
        _commands.parse("deploy runpod --gpus A100")


def test_unknown_subcommand_lists_the_known_ones():
    with pytest.raises(InputError, match="deploy, gpus, status"):
        _commands.parse("depoly runpod")


def test_every_subcommand_has_help():
    for name in _commands.BUILDERS:
        assert name in _commands.help_text(name) or name == "help"
