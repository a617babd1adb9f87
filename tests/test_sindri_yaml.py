"""sindri.yaml: every field of the RunPod and Northflank blocks reaches the request
the emulator receives, or is refused with its reason before anything is sent."""

from __future__ import annotations

import json
import textwrap

import pytest
from IPython.core.error import UsageError

from sindri_jupyter._config_file import check, load, schema

NF_KEY = "nf-test-token-" + "y" * 24

RUNPOD = """
version: "3.0"
name: trainer
deployment:
  provider: runpod
  resources:
    gpu: {enabled: true, count: 1}
extensions: {profile: minimal}
providers:
  runpod:
"""


def runpod_file(fields: str) -> str:
    return RUNPOD + textwrap.indent(textwrap.dedent(fields).strip() + "\n", "    ")


def creates(control) -> list[dict]:
    return [
        r["body"]
        for r in control.requests()
        if r["method"] == "POST" and r["path"] == "/v2/pods"
    ]


def deploy_cell(shell, body: str, line: str = "deploy --no-wait") -> None:
    shell.run_cell_magic("sindri", line, body)


# -- RunPod: each field, where it lands ----------------------------------------------
HONOURED_RUNPOD = [
    ("gpuTypeId: NVIDIA L40", lambda b: b["gpu"]["id"] == "NVIDIA L40"),
    ("gpu_type_id: NVIDIA L40", lambda b: b["gpu"]["id"] == "NVIDIA L40"),
    ("gpuCount: 2", lambda b: b["gpu"]["count"] == 2),
    ("containerDiskGb: 40", lambda b: b["disk"] == 40),
    ("volumeSizeGb: 30", lambda b: b["mounts"]["persistent"]["size"] == 30),
    ("volumeSizeGb: 0", lambda b: "mounts" not in b),
    ("volumeMountPath: /data", lambda b: b["mounts"]["persistent"]["path"] == "/data"),
    ("cloudType: SECURE", lambda b: b["cloud"] == "SECURE"),
    ("{}", lambda b: b["cloud"] == "COMMUNITY"),  # v3's default, always sent
    ("region: EU-RO-1", lambda b: b["dataCenterIds"] == ["EU-RO-1"]),
    ("region: US", lambda b: b["dataCenterIds"][0].startswith("US-")),
    (
        "exposePorts: [8888, 6006]",
        lambda b: b["ports"] == ["8888/http", "6006/http", "22/tcp"],
    ),
    ("spotBid: 0.4", lambda b: "interruptible" not in b and b["cloud"]),
    ("startSsh: true", lambda b: b["startSsh"] is True),
    ("cpuOnly: false", lambda b: "gpu" in b),
]


@pytest.mark.parametrize("fields,landed", HONOURED_RUNPOD)
def test_runpod_fields_reach_the_create_request(shell, control, fields, landed):
    body = runpod_file(fields if fields != "{}" else "gpuTypeId: NVIDIA L40")
    if fields != "{}" and "gpuTypeId" not in fields and "gpu_type_id" not in fields:
        body += "    gpuTypeId: NVIDIA L40\n"
    try:
        deploy_cell(shell, body)
    except UsageError as refusal:  # a data center without the GPU: still sent
        assert "no capacity" in str(refusal)
    create = creates(control)[0]
    assert landed(create), create


REFUSED_RUNPOD = [
    ("templateId: abc", "templates are not used here"),
    ("cpuInstanceId: cpu3c-2-4", "CPU pods are not deployed"),
    ("cpuOnly: true", "conflicts with gpuTypeId"),
    ("startSsh: false", "SSH is always started"),
    ("volumeSizeGb: 5", "smallest volume is 10 GB"),
    ("gpuCount: 9", "at most 8"),
    ("cloudType: cheap", '"SECURE", "COMMUNITY"'),
]


@pytest.mark.parametrize("fields,reason", REFUSED_RUNPOD)
def test_runpod_fields_refused_with_a_reason_send_nothing(
    shell, control, fields, reason
):
    body = runpod_file("gpuTypeId: NVIDIA L40\n" + fields)
    with pytest.raises(UsageError) as refused:
        deploy_cell(shell, body)
    message = str(refused.value)
    assert reason in message and "providers.runpod." in message
    assert "\n" not in message.strip()
    assert creates(control) == []


def test_a_misspelled_key_is_refused_with_the_nearest_one(shell, control):
    with pytest.raises(UsageError) as refused:
        deploy_cell(shell, runpod_file("gpuTyp: NVIDIA L40"))
    assert str(refused.value) == (
        "the cell: unknown key providers.runpod.gpuTyp; did you mean gpuTypeId?"
    )
    assert control.requests() == []


def test_a_field_given_twice_in_two_spellings_is_refused():
    text = runpod_file("gpuTypeId: NVIDIA L40\ngpu_type: NVIDIA L4")
    with pytest.raises(Exception, match="gives gpuTypeId twice"):
        load(text=text)


def test_spot_is_a_warning_and_extensions_are_listed_once(shell, control, capsys):
    deploy_cell(shell, runpod_file("gpuTypeId: NVIDIA L40\nspotBid: 0.3"))
    out = capsys.readouterr().out
    assert "spot pods are withdrawn" in out and "deploys on-demand" in out
    assert out.count("Not used here: extensions") == 1
    assert len(creates(control)) == 1


def test_the_tier_map_and_generic_fields_apply_where_the_block_is_silent(
    shell, control
):
    body = textwrap.dedent(
        """
        version: "3.0"
        name: tiered
        deployment:
          provider: runpod
          resources: {gpu: {enabled: true, tier: gpu-large, count: 2}}
          volumes: {workspace: {path: /home/dev/work, size: 25GB}}
        """
    )
    deploy_cell(shell, body)
    [create] = creates(control)
    assert create["gpu"] == {"id": "NVIDIA A100 80GB PCIe", "count": 2}
    assert create["mounts"]["persistent"] == {"size": 25, "path": "/home/dev/work"}


def test_the_line_wins_over_the_file_and_says_so(shell, control, capsys, tmp_path):
    path = tmp_path / "sindri.yaml"
    path.write_text(runpod_file("gpuTypeId: NVIDIA L40\ncontainerDiskGb: 40"))
    shell.run_line_magic("sindri", f"deploy --config {path} --disk 60 --no-wait")
    [create] = creates(control)
    assert create["disk"] == 60 and create["gpu"]["id"] == "NVIDIA L40"
    assert "--disk on the line wins over providers.runpod.containerDiskGb" in (
        capsys.readouterr().out
    )


def test_a_catalog_refusal_names_the_field_not_the_flag(shell, control):
    with pytest.raises(UsageError) as refused:
        deploy_cell(shell, runpod_file("gpuTypeId: NVIDIA RTX 9999"))
    assert str(refused.value).startswith("the cell: providers.runpod.gpuTypeId")
    assert creates(control) == []


def test_other_providers_are_refused_and_env_secrets_are_passed(
    shell, control, monkeypatch
):
    with pytest.raises(UsageError, match="'fly' is not deployed by this library"):
        deploy_cell(shell, 'version: "3.0"\nname: x\ndeployment: {provider: fly}\n')
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_123")
    body = runpod_file("gpuTypeId: NVIDIA L40") + (
        "secrets:\n  - {name: HF_TOKEN, source: env}\n"
    )
    deploy_cell(shell, body)
    [create] = creates(control)
    assert create["env"]["HF_TOKEN"] == "hf_secret_value_123"


def test_the_shipped_schema_is_valid_and_refuses_snake_case_on_its_own():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    document = {
        "version": "3.0",
        "name": "x",
        "deployment": {"provider": "runpod"},
        "providers": {"runpod": {"gpu_type_id": "L40"}},
    }
    errors = list(jsonschema.Draft202012Validator(schema()).iter_errors(document))
    assert errors  # editors flag the alias; the loader accepts it
    assert check(document, "f")["providers"]["runpod"] == {"gpuTypeId": "L40"}
    assert json.dumps(schema())  # serialisable as shipped


# -- Northflank: each field, where it lands ------------------------------------------
NORTHFLANK = """
version: "3.0"
name: lab
deployment:
  provider: northflank
providers:
  northflank:
    projectName: research
"""


@pytest.fixture
def nf(session):
    from sindri_jupyter._config import Endpoint
    from sindri_jupyter.emulators import EmulatorControl, serve

    server = serve("northflank", seed=7, api_keys=[NF_KEY])
    session.endpoints["northflank"] = Endpoint(
        "northflank", server.base_url, NF_KEY, sandbox=True
    )
    try:
        with EmulatorControl(server.base_url) as client:
            yield client
    finally:
        server.close()


def nf_file(fields: str) -> str:
    return NORTHFLANK + textwrap.indent(textwrap.dedent(fields).strip() + "\n", "    ")


def nf_posts(control) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for r in control.requests():
        if r["method"] == "POST":
            key = r["path"].rsplit("/", 1)[-1]
            found.setdefault(key, []).append(r["body"])
    return found


def test_northflank_fields_reach_the_requests(shell, nf):
    fields = """
        serviceName: lab-gpu
        computePlan: nf-compute-200
        gpuType: nvidia-l4
        gpuCount: 2
        instances: 1
        region: us-west
        volumeSizeGb: 20
        volumeMountPath: /data
        ports:
          - {name: jupyter, internalPort: 8888, public: true, protocol: HTTP}
          - {name: ssh, internalPort: 2222, protocol: TCP}
        autoScaling: {enabled: false}
    """
    deploy_cell(shell, nf_file(fields))
    posts = nf_posts(nf)
    [project] = posts["projects"]
    assert project["name"] == "research" and project["region"] == "us-west"
    [service] = posts["deployment"]
    assert service["name"] == "lab-gpu"
    assert service["billing"]["deploymentPlan"] == "nf-compute-200"
    gpu = service["deployment"]["gpu"]["configuration"]
    assert gpu == {"gpuType": "l4-24", "gpuCount": 2}
    assert service["deployment"]["instances"] == 1
    ports = {(p["internalPort"], p["protocol"], p["public"]) for p in service["ports"]}
    assert ports == {(8888, "HTTP", True), (2222, "TCP", False)}
    [volume] = posts["volumes"]
    assert volume["spec"]["storageSize"] == 20 * 1024
    assert volume["mounts"] == [{"containerMountPath": "/data"}]


REFUSED_NORTHFLANK = [
    ("registryCredentials: cred-1", "private registries are not used here"),
    ("healthCheck: {type: tcp, port: 8888}", "health checks are not sent"),
    ("autoScaling: {enabled: true}", "one instance"),
    ("autoScaling: {minInstances: 4, maxInstances: 2}", "more than maxInstances"),
    ("instances: 2", "one instance"),
    ("instances: 0", "deploy, then stop"),
    ("gpuCount: 2", "it needs gpuType"),
    (
        "ports: [{name: dns, internalPort: 53, protocol: UDP}]",
        "only HTTP and TCP ports",
    ),
    ("computePlan: nf-compute-7", "nf-compute-7"),
]


@pytest.mark.parametrize("fields,reason", REFUSED_NORTHFLANK)
def test_northflank_fields_refused_with_a_reason_send_nothing(
    shell, nf, fields, reason
):
    nf.clear_requests()
    with pytest.raises(UsageError) as refused:
        deploy_cell(shell, nf_file(fields))
    assert reason in str(refused.value)
    assert [r for r in nf.requests() if r["method"] != "GET"] == []
