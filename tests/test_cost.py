"""Prices, dry runs, money so far and the reminder, against the RunPod emulator.

Expected amounts are computed here from the emulator's clock, its catalog and
RunPod's published storage rates (reference §13), never by the library's code.
"""

from __future__ import annotations

from datetime import datetime

import pytest

import sindri_jupyter as sj
from sindri_jupyter._cost import prices
from sindri_jupyter._errors import InputError

# RunPod's published storage rates, USD per GB-month of 730 hours.
CONTAINER_DISK_RATE = 0.10
VOLUME_RUNNING_RATE = 0.10
VOLUME_STOPPED_RATE = 0.20
HOURS_PER_MONTH = 730


@pytest.fixture
def manual(control):
    control.set_clock(mode="manual")
    return control


def provider_requests(control) -> list[dict]:
    return control.requests()


def clock_now(control) -> datetime:
    return datetime.fromisoformat(control.clock()["now"].replace("Z", "+00:00"))


def test_a_dry_run_with_kept_prices_sends_nothing_and_masks_the_key(
    session, control, runpod_key
):
    sj.gpu_table("runpod")  # prices read once, and kept
    control.clear_requests()
    plan = sj.plan(
        "runpod", gpu="L40", name="dry", env={"HF_TOKEN": "hf_Zq8wK3vR7xT2mN5pL9"}
    )
    text = str(plan)
    assert provider_requests(control) == []
    assert "Dry run: nothing was created" in text and "$0.99/h" in text
    assert "runpod prices as of" in text
    assert '"id": "NVIDIA L40"' in text
    assert "hf_Zq8wK3vR7xT2mN5pL9" not in text and runpod_key not in text
    assert (
        "JUPYTER_PASSWORD" in text
        and plan.candidates[0]["env"]["JUPYTER_PASSWORD"] not in text
    )


def test_a_dry_run_with_no_prices_kept_reads_the_catalog_once_and_says_so(
    session, control
):
    plan = sj.plan("runpod", gpu="L40", name="dry")
    assert [(r["method"], r["path"]) for r in control.requests()] == [
        ("GET", "/v2/catalog/gpus")
    ]
    assert "read the catalog once" in str(plan)


def test_the_magic_dry_run_sends_nothing(shell, session, control, capsys):
    shell.run_line_magic("sindri", "gpus runpod")
    control.clear_requests()
    shell.run_line_magic("sindri", "deploy runpod --gpu L40 --name d --dry-run")
    assert control.requests() == []
    assert "Dry run: nothing was created" in capsys.readouterr().out


def test_prices_the_emulator_changed_are_shown_after_the_cache_time(
    session, control, monkeypatch
):
    clock = [1_000_000.0]
    monkeypatch.setattr(prices, "wall_time", lambda: clock[0])
    first = sj.gpu_table("runpod")
    assert "$0.99" in str(first)
    control.set_price("NVIDIA L40", secure=1.23)
    clock[0] += 60  # a minute later: still the kept prices
    assert "$1.23" not in str(sj.gpu_table("runpod"))
    clock[0] += prices.PRICE_CACHE_SECONDS
    fresh = sj.gpu_table("runpod")
    assert "$1.23" in str(fresh) and "STALE" not in str(fresh)


def test_with_the_emulator_down_the_last_prices_show_as_stale_with_their_time(
    session, runpod_emulator, control, monkeypatch
):
    clock = [1_000_000.0]
    monkeypatch.setattr(prices, "wall_time", lambda: clock[0])

    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(session.clock, "sleep", no_wait)
    first = sj.gpu_table("runpod")
    when = first.sheets[0].as_of.strftime("%Y-%m-%d %H:%M UTC")
    runpod_emulator.close()
    clock[0] += prices.PRICE_CACHE_SECONDS + 1
    stale = str(sj.gpu_table("runpod"))
    assert "$0.99" in stale
    assert f"runpod prices are STALE, as of {when}" in stale


def test_kept_prices_survive_a_new_session(session, control):
    sj.gpu_table("runpod")
    from sindri_jupyter._engine import Session

    fresh = Session(endpoints=dict(session.endpoints))
    assert prices.kept_only(fresh, "runpod", "SECURE") is not None


def test_gpus_filters_by_memory_price_and_count(session, control):
    table = sj.gpu_table(min_memory=48, max_price=1.0)
    assert table.offers
    for offer in table.offers:
        assert offer.memory_gb >= 48 and offer.price("SECURE") <= 1.0
    prices_seen = [o.price("SECURE") for o in table.offers]
    assert prices_seen == sorted(prices_seen)
    doubled = sj.gpu_table(min_memory=48, max_price=1.0, count=2)
    assert all(o.price("SECURE") * 2 <= 1.0 for o in doubled.offers)
    assert "$/h for 2 GPUs" in str(doubled)


@pytest.mark.parametrize(
    ("line", "option"),
    [
        ("gpus --min-memory lots", "--min-memory"),
        ("gpus --max-price -1", "--max-price"),
        ("cost --since forever", "--since"),
        ("deploy runpod --gpu L40 --max-hours 0", "--max-hours"),
        ("deploy runpod --gpu L40 --max-cost free", "--max-cost"),
        ("deploy runpod --gpu L40 --stop-when-idle soon", "--stop-when-idle"),
        ("start trainer --max-hours 0", "--max-hours"),
        ("start trainer --max-cost free", "--max-cost"),
    ],
)
def test_bad_cost_options_are_refused_in_one_sentence_and_send_nothing(
    shell, session, control, line, option
):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("sindri", line)
    assert option in str(caught.value)
    assert control.requests() == []


def test_cost_matches_the_emulators_billing_records_to_the_cent(session, manual):
    price = 0.99  # the catalog's secure price of an L40 (checked below)
    catalog = {g["id"]: g for g in manual.call("GET", "catalog")["gpus"]}
    assert catalog["NVIDIA L40"]["price"]["secure"] == price
    disk_gb, volume_gb = 40, 30
    created = clock_now(manual)
    pod = sj.deploy(
        "runpod", gpu="L40", name="billed", disk=disk_gb, volume=volume_gb, wait=False
    )
    manual.advance(3 * 3600 + 17 * 60)
    sj.stop("billed")
    stopped = clock_now(manual)
    manual.advance(26 * 3600)
    report = sj.cost(since="7d")
    now = clock_now(manual)

    ran = (stopped - created).total_seconds() / 3600
    idle = (now - stopped).total_seconds() / 3600
    compute = price * ran
    disk = (
        disk_gb * CONTAINER_DISK_RATE + volume_gb * VOLUME_RUNNING_RATE
    ) / HOURS_PER_MONTH * ran + volume_gb * VOLUME_STOPPED_RATE / HOURS_PER_MONTH * idle
    [spend] = [s for s in report.period if s.id == pod.id]
    assert round(spend.compute, 2) == round(compute, 2)
    assert round(spend.disk, 2) == round(disk, 2)
    assert round(spend.total, 2) == round(compute + disk, 2)
    assert round(report.by_provider()["runpod"], 2) == round(compute + disk, 2)
    text = str(report)
    assert f"${compute + disk:,.2f}" in text and "billing records" in text
    assert "volume still bills $6.00/month" in text


def test_cost_shows_the_burn_rate_and_labels_estimates(shell, session, manual, capsys):
    sj.deploy("runpod", gpu="L40", name="one", wait=False)
    sj.deploy("runpod", gpu="A4000", name="two", wait=False)
    manual.advance(1800)
    shell.run_line_magic("sindri", "cost")
    out = capsys.readouterr().out
    assert "burn rate $1.23/h" in out  # 0.99 + 0.24
    assert "estimate" in out and "one" in out and "two" in out


def test_the_first_status_reminds_of_running_pods_once_even_if_started_elsewhere(
    shell, session, control, capsys, runpod_emulator, runpod_key
):
    from sindri_jupyter import _api
    from sindri_jupyter._config import Endpoint
    from sindri_jupyter._engine import Session

    sj.deploy("runpod", gpu="L40", name="elsewhere", wait=False)
    # A new kernel: a fresh session and a fresh store; the pod is found by its tag.
    endpoint = Endpoint("runpod", runpod_emulator.base_url, runpod_key, sandbox=True)
    _api._session = Session(endpoints={"runpod": endpoint})
    _api._session.settings.ssh_key_path = "/nonexistent/id_ed25519.pub"
    shell.run_line_magic("sindri", "help")
    shell.run_line_magic("sindri", "deploy runpod --gpu L40 --name x --dry-run")
    assert "Reminder" not in capsys.readouterr().out
    shell.run_line_magic("sindri", "status")
    first = capsys.readouterr().out
    assert "Reminder: 1 deployment is running (runpod:elsewhere): $0.99/h" in first
    shell.run_line_magic("sindri", "status")
    assert "Reminder" not in capsys.readouterr().out


def test_refused_input_does_not_use_up_the_reminder(shell, session, control, capsys):
    from IPython.core.error import UsageError

    sj.deploy("runpod", gpu="L40", name="live", wait=False)
    session.reminded = False  # as in a new kernel
    with pytest.raises(UsageError):
        shell.run_line_magic("sindri", "status --bogus")
    shell.run_line_magic("sindri", "cost")
    assert "Reminder: 1 deployment is running" in capsys.readouterr().out


def test_nothing_running_means_no_reminder(shell, session, control, capsys):
    shell.run_line_magic("sindri", "status")
    assert "Reminder" not in capsys.readouterr().out
    with pytest.raises(InputError):
        sj.cost(since="0s")
