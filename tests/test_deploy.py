"""Everything in ``deploy/`` is checked: the env example against the code, the
Dockerfile with hadolint, the systemd unit with ``systemd-analyze``, the compose
files and the Caddyfile by reading them (and with their tools where installed).

No Docker daemon is needed: these are the checks that can run on any machine
(CI included); a tool that is absent skips its test with the reason.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
EXAMPLE = DEPLOY / "techbrief.env.example"
_VARIABLE = re.compile(r"(?:TECHBRIEF|TELEGRAM)_[A-Z0-9_]+")
_ASSIGNMENT = re.compile(r"^#?\s*((?:TECHBRIEF|TELEGRAM)_[A-Z0-9_]+)=(.*)$")


def _read_by_program() -> set[str]:
    """Variable names the program reads: string constants that are exactly a name.

    Messages that mention a variable ("TECHBRIEF_TZ: unknown ...") are not names;
    ``values.get("TECHBRIEF_TZ")`` and ``_flag("TECHBRIEF_...")`` are.
    """
    names = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _VARIABLE.fullmatch(node.value)
            ):
                names.add(node.value)
    return names


def _example() -> dict[str, str]:
    """The example's variables (commented-out ones included) and their example values."""
    found = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ASSIGNMENT.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


# -- the env example -------------------------------------------------------------------------


def test_the_scan_finds_the_variables_config_reads() -> None:
    # The scan itself must work, or the comparison below proves nothing.
    assert {"TELEGRAM_BOT_TOKEN", "TECHBRIEF_DB", "TECHBRIEF_WEBHOOK_SECRET"} <= _read_by_program()


def test_the_env_example_lists_every_variable_the_program_reads() -> None:
    read, listed = _read_by_program(), set(_example())
    assert not read - listed, f"add to {EXAMPLE.name}: {sorted(read - listed)}"
    assert not listed - read, f"{EXAMPLE.name} lists variables nothing reads: {listed - read}"


def test_the_readme_documents_every_variable() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in sorted(_read_by_program()) if f"`{name}`" not in readme]
    assert not missing, f"not in the README: {missing}"


def _settings_from(text: str, tmp_path: Path) -> Settings:
    env = tmp_path / "techbrief.env"
    env.write_text(text, encoding="utf-8")
    return load_settings({}, env)


def test_the_env_example_as_shipped_is_valid_polling_configuration(tmp_path: Path) -> None:
    settings = _settings_from(EXAMPLE.read_text(encoding="utf-8"), tmp_path)
    assert settings.webhook is None
    assert settings.token is None
    assert settings.log_level == "INFO"
    assert str(settings.db_path) == "/var/lib/techbrief/techbrief.db"


def test_the_env_example_with_its_webhook_lines_is_valid_webhook_configuration(
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^# (TECHBRIEF_WEBHOOK_\w+=)", r"\1", text)
    text = text.replace("TECHBRIEF_WEBHOOK_SECRET=\n", f"TECHBRIEF_WEBHOOK_SECRET={'s3' * 16}\n")
    text = text.replace("TELEGRAM_BOT_TOKEN=\n", "TELEGRAM_BOT_TOKEN=123456789:" + "A" * 35 + "\n")
    settings = _settings_from(text, tmp_path)
    assert settings.webhook is not None
    assert settings.webhook.url == "https://bot.example.com/telegram"
    assert (settings.webhook.listen, settings.webhook.port) == ("127.0.0.1", 8080)
    assert settings.webhook.path == "/telegram"


# -- Dockerfile --------------------------------------------------------------------------------


def _dockerfile() -> list[str]:
    """Instructions, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            joined.append(current.strip())
            current = ""
    return joined


def _hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint not installed (the 'test' extra has it)")
def test_hadolint_passes_the_dockerfile() -> None:
    proc = subprocess.run(
        [str(_hadolint()), "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path: Path) -> None:
    if _hadolint() is None:
        pytest.skip("hadolint not installed (the 'test' extra has it)")
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /src && pip install .\n")
    proc = subprocess.run([str(_hadolint()), str(bad)], capture_output=True, check=False)
    assert proc.returncode != 0


def test_the_image_is_multi_stage_and_runs_unprivileged_with_data_on_a_volume() -> None:
    instructions = _dockerfile()
    stages = [i for i in instructions if i.startswith("FROM ")]
    assert len(stages) >= 2
    assert all("-slim" in stage for stage in stages)
    final = instructions[instructions.index(stages[-1]) :]
    # The compiler stays in the build stage.
    assert not [i for i in final if i.startswith("RUN ") and "gcc" in i]
    assert any(i.startswith("COPY --from=build ") for i in final)
    [user] = [i for i in final if i.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("0", "root")
    assert 'VOLUME ["/data"]' in final
    env = " ".join(i for i in final if i.startswith("ENV "))
    assert "TECHBRIEF_DB=/data/" in env
    [health] = [i for i in final if i.startswith("HEALTHCHECK ")]
    assert health.endswith('CMD ["techbrief", "doctor", "--quick"]')


def test_the_build_checks_the_installed_kernel_not_the_sources() -> None:
    # From WORKDIR /src, `python -c "import retrieval._kernel"` would find the uncompiled
    # sources first (cwd on sys.path) and fail the build; -P leaves the cwd out.
    [check] = [i for i in _dockerfile() if i.startswith("RUN ") and "import retrieval" in i]
    assert "/opt/techbrief/bin/python -P -c" in check


def test_the_image_copies_every_package_the_distribution_ships() -> None:
    copied = {i.split()[1] for i in _dockerfile() if i.startswith("COPY ") and "--from" not in i}
    copied |= {
        name
        for i in _dockerfile()
        if i.startswith("COPY ") and "--from" not in i
        for name in i.split()[1:-1]
    }
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    [include] = re.findall(r"include = \[([^\]]*)\]", pyproject)
    packages = {name.strip(' "*') for name in include.split(",")}
    assert packages | {"pyproject.toml", "README.md"} <= copied
    # ... and the ignore file next to the Dockerfile lets them into the build context.
    allowed = {
        line[1:].rstrip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert copied <= allowed


# -- systemd -------------------------------------------------------------------------------------


def _unit() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (DEPLOY / "techbrief.service").read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def test_the_unit_runs_techbrief_hardened() -> None:
    unit = _unit()
    assert unit["ExecStart"] == ["/opt/techbrief/.venv/bin/techbrief run"]
    assert unit["User"] == ["techbrief"]
    assert unit["EnvironmentFile"] == ["/etc/techbrief/techbrief.env"]
    assert unit["Restart"] == ["on-failure"]
    for key, value in {
        "NoNewPrivileges": "true",
        "ProtectSystem": "strict",
        "ProtectHome": "true",
        "PrivateTmp": "true",
        "PrivateDevices": "true",
        "CapabilityBoundingSet": "",
        "StateDirectory": "techbrief",
    }.items():
        assert unit.get(key) == [value], key
    # The database the env example names is in the state directory the unit may write.
    assert _example()["TECHBRIEF_DB"].startswith("/var/lib/techbrief/")


def _verifiable_unit(tmp_path: Path) -> Path:
    """A copy of the unit whose ExecStart exists here (verify checks the binary)."""
    text = (DEPLOY / "techbrief.service").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^ExecStart=\S+", f"ExecStart={sys.executable}", text)
    copy = tmp_path / "techbrief.service"
    copy.write_text(text, encoding="utf-8")
    return copy


def _systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, check=False, timeout=60
    )


needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)


@needs_systemd_analyze
def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    proc = _systemd_analyze("verify", str(_verifiable_unit(tmp_path)))
    # verify warns about unknown keys and bad values on stderr but exits 0: both count.
    assert (proc.returncode, proc.stdout + proc.stderr) == (0, "")


@needs_systemd_analyze
def test_systemd_analyze_would_catch_a_misspelt_setting(tmp_path: Path) -> None:
    unit = _verifiable_unit(tmp_path)
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystem=strictest"))
    proc = _systemd_analyze("verify", str(unit))
    assert "strictest" in proc.stderr


@needs_systemd_analyze
def test_the_unit_is_rated_well_hardened(tmp_path: Path) -> None:
    # Exposure 0.0 (locked down) .. 10.0; the threshold is in tenths. The unit rates 1.6.
    proc = _systemd_analyze(
        "security", "--offline=true", "--threshold=20", str(_verifiable_unit(tmp_path))
    )
    if "--offline" in proc.stderr and "unrecognized" in proc.stderr:
        pytest.skip("this systemd-analyze cannot rate a unit file offline (systemd < 252)")
    last = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, last


# -- compose and Caddy -----------------------------------------------------------------------------


def _compose(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_builds_the_image_and_keeps_the_database_on_a_volume() -> None:
    compose = _compose("compose.yaml")
    service = compose["services"]["techbrief"]
    build = service["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    # The env file is the example, copied: the example must be where the comment says.
    assert service["env_file"] == "techbrief.env"
    assert (DEPLOY / "techbrief.env.example").is_file()
    [volume] = service["volumes"]
    name, _, target = volume.partition(":")
    assert target == "/data"
    assert name in compose["volumes"]
    assert service["environment"]["TECHBRIEF_DB"].startswith("/data/")
    assert service["restart"] in ("unless-stopped", "always")
    assert service["command"] == ["run"]
    # Polling: nothing to publish.
    assert "ports" not in service


def test_compose_health_check_is_the_images() -> None:
    health = _compose("compose.yaml")["services"]["techbrief"]["healthcheck"]
    [instruction] = [i for i in _dockerfile() if i.startswith("HEALTHCHECK ")]
    command = instruction.split(" CMD ", 1)[1]
    assert health["test"] == ["CMD", *ast.literal_eval(command)]


def test_the_webhook_variant_puts_caddy_in_front_without_the_token() -> None:
    override = _compose("compose.webhook.yaml")
    bot = override["services"]["techbrief"]
    assert bot["environment"]["TECHBRIEF_WEBHOOK_LISTEN"] == "0.0.0.0"
    port = bot["environment"]["TECHBRIEF_WEBHOOK_PORT"]
    assert "ports" not in bot  # reachable only through Caddy
    caddy = override["services"]["caddy"]
    assert "env_file" not in caddy  # the proxy never sees the bot token
    assert caddy["environment"]["TECHBRIEF_UPSTREAM"] == f"techbrief:{port}"
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    mounts = {m.split(":")[1]: m.split(":")[0] for m in caddy["volumes"]}
    assert (DEPLOY / mounts["/etc/caddy/Caddyfile"]).resolve() == DEPLOY / "Caddyfile"
    assert all(name in override["volumes"] for name in mounts.values() if "/" not in name)


def test_the_caddyfile_forwards_the_example_webhook_path() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    path = _example()["TECHBRIEF_WEBHOOK_PATH"]
    assert f"handle {path} {{" in caddyfile
    assert "reverse_proxy {$TECHBRIEF_UPSTREAM:127.0.0.1:8080}" in caddyfile
    assert caddyfile.count("{") == caddyfile.count("}")


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _docker_compose_available(), reason="the docker compose plugin is absent")
def test_docker_compose_accepts_both_files(tmp_path: Path) -> None:
    # A copy of deploy/ with the env file the operator would have made from the example.
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, deploy)
    shutil.copyfile(EXAMPLE, deploy / "techbrief.env")
    for files in (["compose.yaml"], ["compose.yaml", "compose.webhook.yaml"]):
        args = [a for f in files for a in ("-f", str(deploy / f))]
        proc = subprocess.run(
            ["docker", "compose", *args, "--env-file", "/dev/null", "config", "--quiet"],
            capture_output=True,
            text=True,
            check=False,
            env={"TECHBRIEF_WEBHOOK_HOST": "bot.example.com", "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy not installed")
def test_caddy_accepts_the_caddyfile() -> None:
    proc = subprocess.run(
        ["caddy", "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        check=False,
        env={"TECHBRIEF_WEBHOOK_HOST": "bot.example.com", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "bot.example.com" in proc.stdout


# -- the set of artefacts ----------------------------------------------------------------------

CHECKED = {
    "Dockerfile": "hadolint, structure",
    "Dockerfile.dockerignore": "lets in what the Dockerfile copies",
    "compose.yaml": "PyYAML, docker compose config where installed",
    "compose.webhook.yaml": "PyYAML, docker compose config where installed",
    "Caddyfile": "caddy adapt where installed, path and upstream",
    "techbrief.service": "systemd-analyze verify and security",
    "techbrief.env.example": "the variables the code reads",
}


def test_every_deploy_artefact_is_checked_and_in_the_readme() -> None:
    present = {p.name for p in DEPLOY.iterdir() if p.is_file()}
    assert present == set(CHECKED), "a new file in deploy/ needs a check here"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in present - {"Dockerfile.dockerignore"}:
        assert f"deploy/{name}" in readme, name
    # deploy/techbrief.env is the operator's copy of the example (git ignores it).
    for mentioned in set(re.findall(r"deploy/([\w.-]+\w)", readme)) - {"techbrief.env"}:
        assert (DEPLOY / mentioned).is_file(), f"the README names deploy/{mentioned}"
