"""`ssh-config`: Host blocks in our own file; one Include line, only when agreed.

Every test runs with a temporary HOME: the real ~/.ssh is never read or written.
"""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from sindri_jupyter import _ssh_config
from sindri_jupyter._errors import InputError
from sindri_jupyter._models import Connection, Deployment, State

USERS_OWN = b"# my settings\nHost work\n    HostName work.example.com\n    User me\n"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    folder = tmp_path / "home"
    (folder / ".ssh").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    return folder


def ready(name: str, *, direct: str | None = None, state=State.READY) -> Deployment:
    ssh = direct or "ssh root@203.0.113.7 -p 10022 -i ~/.ssh/id_ed25519 -o X=no"
    return Deployment(
        provider="runpod",
        id="pod123",
        name=name,
        state=state,
        connection=Connection(ssh_direct=ssh),
    )


def test_an_injected_name_is_refused_before_anything_is_written(home):
    config = home / ".ssh" / "config"
    config.write_bytes(USERS_OWN)
    evil = ready("x\n  ProxyCommand evil")
    with pytest.raises(InputError, match="nothing was written"):
        _ssh_config.run(deployments=[ready("good"), evil], yes=True)
    assert not _ssh_config.config_file().exists()
    assert config.read_bytes() == USERS_OWN


@pytest.mark.parametrize(
    "direct",
    [
        "ssh root@1.2.3.4\nProxyCommand evil -p 22",
        "ssh root@1.2.3.4 -p 22\n -i x",
        'ssh root@1.2.3.4 -p 22 -i "a b"',
        "ssh ro ot@1.2.3.4 -p 22",
        "ssh root@1.2.3.4 -p 99999",
    ],
)
def test_addresses_that_could_add_options_are_refused(direct):
    with pytest.raises(InputError):
        _ssh_config.host_block(ready("fine", direct=direct))


def test_blocks_go_to_our_file_and_the_include_only_after_a_yes(home):
    config = home / ".ssh" / "config"
    config.write_bytes(USERS_OWN)
    said = _ssh_config.run(
        deployments=[ready("trainer"), ready("idle", state=State.STOPPED)],
        ask=lambda question: False,
    )
    text = _ssh_config.config_file().read_text()
    assert "Host trainer\n    HostName 203.0.113.7\n    Port 10022\n" in text
    assert "Host idle" not in text
    assert config.read_bytes() == USERS_OWN  # the user said no
    assert "was not changed" in said
    said = _ssh_config.run(deployments=[ready("trainer")], ask=lambda q: True)
    assert (
        config.read_bytes() == _ssh_config.include_line().encode() + b"\n" + USERS_OWN
    )
    _ssh_config.run(deployments=[ready("trainer")], yes=True)
    assert config.read_bytes().count(b"Include") == 1  # never twice


def test_no_answer_possible_leaves_the_users_file_alone(home):
    def no_terminal(question):
        raise EOFError

    with pytest.raises(EOFError):
        no_terminal("")
    said = _ssh_config.run(deployments=[ready("a")], ask=lambda q: None)
    assert not (home / ".ssh" / "config").exists()
    assert "--yes" in said


def test_a_missing_ssh_folder_is_made_private_with_yes(home, tmp_path):
    (home / ".ssh").rmdir()
    _ssh_config.run(deployments=[ready("a")], yes=True)
    config = home / ".ssh" / "config"
    assert (home / ".ssh").stat().st_mode & 0o777 == 0o700
    assert config.stat().st_mode & 0o777 == 0o600
    assert _ssh_config.config_file().stat().st_mode & 0o777 == 0o600


def test_remove_and_forget_touch_only_our_file(home):
    _ssh_config.run(deployments=[ready("one"), ready("two")], yes=True)
    assert _ssh_config.forget("one")
    text = _ssh_config.config_file().read_text()
    assert "Host one" not in text and "Host two" in text
    assert not _ssh_config.forget("one")
    users = (home / ".ssh" / "config").read_bytes()
    _ssh_config.run(remove=True)
    assert not _ssh_config.config_file().exists()
    assert (home / ".ssh" / "config").read_bytes() == users


def test_the_magic_writes_a_block_and_destroy_removes_it(shell, control, capsys, home):
    shell.run_line_magic("sindri", "deploy runpod --gpu L40 --name lab")
    shell.run_line_magic("sindri", "ssh-config --yes")
    assert "Host lab\n" in _ssh_config.config_file().read_text()
    shell.run_line_magic("sindri", "destroy lab --yes")
    assert "Host lab" not in _ssh_config.config_file().read_text()
    with pytest.raises(UsageError, match="deploy only"):
        shell.run_cell_magic("sindri", "ssh-config", "x: 1")
