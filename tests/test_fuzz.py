"""Thousands of malformed lines and calls: one typed sentence each, nothing sent."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

from sindri_jupyter import _api, _commands, _frontend
from sindri_jupyter._errors import InputError, SindriError

OPTIONS = {
    "--gpu": st.sampled_from(
        ["", ",", " ", "A100", "NVIDIA L40", "RTX 4090", "x" * 80]
    ),
    "--name": st.text(min_size=0, max_size=60),
    "--count": st.sampled_from(["0", "-1", "99999", "two", "1.5", ""]),
    "--disk": st.sampled_from(["0", "-5", "big", "5000", ""]),
    "--volume": st.sampled_from(["1", "9", "-10", "ten", "99999"]),
    "--volume-path": st.sampled_from(["", "relative", "a/b", "\n/x"]),
    "--ports": st.text(alphabet="0123456789/httpcudp,; ²", max_size=20),
    "--env": st.text(max_size=30).filter(lambda text: "=" not in text),
    "--cloud": st.sampled_from(["", "cheap", "SECUR", "5"]),
    "--timeout": st.sampled_from(["0", "-5m", "soon", "nan", "inf", "1w", ""]),
    "--datacenter": st.sampled_from([""]),
    "--stop-after": st.sampled_from(["0", "never"]),
}


@st.composite
def bad_lines(draw) -> tuple[str, str, str]:
    option = draw(st.sampled_from(sorted(OPTIONS)))
    value = draw(OPTIONS[option])
    line = f"deploy runpod --gpu L40 --name ok {option} {shlex.quote(value)} --dry-run"
    return line, option, value


def _acceptable(line: str) -> bool:
    """Whether the core takes the line's values (the catalog may still refuse a GPU)."""
    try:
        command, options = _commands.parse(line)
        if command == "help":  # a stray -h asks for help: nothing is sent
            return True
        _api.build_spec(options.provider, **_frontend._deploy_options(options))
    except SindriError:
        return False
    return True


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=bad_lines())
def test_malformed_magic_lines_get_one_sentence_and_send_nothing(shell, control, case):
    line, option, value = case
    control.clear_requests()
    try:
        shell.run_line_magic("sindri", line)
    except UsageError as error:
        message = str(error)
        assert "\n" not in message.strip()
        assert option in message or repr(value) in message or "Cannot" in message
        assert not _acceptable(line) or option == "--gpu", line
        sent = control.requests()
        if option == "--gpu":
            # Only the live catalog can say a GPU name is unknown or ambiguous.
            assert all(r["path"] == "/v2/catalog/gpus" for r in sent)
        else:
            assert sent == []
        return
    # No refusal: the value must have been acceptable after all.
    assert _acceptable(line), line


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5))),
)
FIELDS = ("gpu", "name", "count", "image", "cloud", "disk", "volume", "volume_path",
          "ports", "env", "datacenters", "timeout")  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(field=st.sampled_from(FIELDS), value=VALUES)
def test_python_calls_with_odd_values_raise_typed_input_errors(field, value):
    try:
        _api.build_spec("runpod", **{"gpu": "L40", "name": "ok", field: value})
    except InputError as error:
        assert str(error).strip() and "\n" not in str(error).strip()
    except SindriError as error:  # pragma: no cover - would be a wrong error type
        pytest.fail(f"{field}={value!r}: {type(error).__name__}: {error}")
