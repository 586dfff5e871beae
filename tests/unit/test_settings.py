"""Operator settings: environment, settings file, validation that never echoes a secret."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.settings import ClusterSettings, SettingsError, load_settings

WEBHOOK_SECRET = "whsec-d0-not-print-me"


@pytest.fixture(scope="module")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.startswith("BOOTSTRAP_BOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def settings_file(tmp_path: Path, monkeypatch, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(textwrap.dedent(text))
    monkeypatch.setenv("BOOTSTRAP_BOT_SETTINGS_FILE", str(path))
    return path


def test_defaults(tmp_path):
    s = load_settings()
    assert s.github_api_url == "https://api.github.com"
    assert s.listen == "0.0.0.0:8080" and (s.listen_host, s.listen_port) == ("0.0.0.0", 8080)
    assert s.cache_dir == tmp_path / "xdg-cache" / "bootstrap-bot"
    assert s.poll_interval == timedelta(minutes=10) and s.resync is True
    assert s.app_id is None and s.private_key_pem() is None and s.webhook_secret is None
    assert s.clusters == {} and s.registry.docker_config is None


def test_environment_variables(monkeypatch, tmp_path, private_key_pem):
    monkeypatch.setenv("BOOTSTRAP_BOT_APP_ID", "4242")
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY", private_key_pem)
    monkeypatch.setenv("BOOTSTRAP_BOT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("BOOTSTRAP_BOT_GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    monkeypatch.setenv("BOOTSTRAP_BOT_LISTEN", "127.0.0.1:9000")
    monkeypatch.setenv("BOOTSTRAP_BOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("BOOTSTRAP_BOT_REGISTRY__DOCKER_CONFIG", "/etc/docker/config.json")
    monkeypatch.setenv("BOOTSTRAP_BOT_POLL_INTERVAL", "900")
    monkeypatch.setenv("BOOTSTRAP_BOT_RESYNC", "false")
    s = load_settings()
    assert s.app_id == 4242
    assert s.poll_interval == timedelta(minutes=15) and s.resync is False
    assert s.private_key_pem() == private_key_pem
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == WEBHOOK_SECRET
    assert s.github_api_url == "https://ghe.example.com/api/v3"
    assert (s.listen_host, s.listen_port) == ("127.0.0.1", 9000)
    assert s.cache_dir == tmp_path / "cache"
    assert s.registry.docker_config == Path("/etc/docker/config.json")


def test_private_key_on_one_line_with_escaped_newlines(monkeypatch, private_key_pem):
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY", private_key_pem.replace("\n", "\\n"))
    assert load_settings().private_key_pem() == private_key_pem


def test_private_key_file_and_fingerprint(monkeypatch, tmp_path, private_key_pem):
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_key_pem)
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY_FILE", str(key_file))
    s = load_settings()
    assert s.private_key_pem() == private_key_pem
    fingerprint = s.private_key_fingerprint()
    assert fingerprint is not None and fingerprint.startswith("SHA256:") and len(fingerprint) == 51


def test_settings_file_holds_clusters_registry_and_poll_interval(monkeypatch, tmp_path):
    settings_file(
        tmp_path,
        monkeypatch,
        """\
        app_id: 7
        registry:
          docker_config: /secrets/docker.json
          ocm_config: /secrets/ocmconfig
        clusters:
          dev:
            kubeconfig: /secrets/kubeconfig-dev
            repositories: [example-org/landscape-dev]
            branches: [incoming, "release-*"]
        poll_interval: PT15M
    """,
    )
    monkeypatch.setenv("BOOTSTRAP_BOT_APP_ID", "8")  # the environment wins over the file
    s = load_settings()
    assert s.app_id == 8
    assert s.registry.ocm_config == Path("/secrets/ocmconfig")
    assert s.poll_interval == timedelta(minutes=15)
    dev = s.clusters["dev"]
    assert dev.kubeconfig == Path("/secrets/kubeconfig-dev")
    assert dev.may_target("example-org/landscape-dev", "incoming")
    assert dev.may_target("Example-Org/Landscape-Dev", "release-2")
    assert not dev.may_target("example-org/landscape-dev", "main")
    assert not dev.may_target("other-org/landscape-dev", "incoming")


def test_settings_file_errors_are_located(monkeypatch, tmp_path):
    path = settings_file(
        tmp_path,
        monkeypatch,
        """\
        clusters:
          dev:
            kubeconfig: /k
            repositories: [not an owner/repo]
            branchs: [main]
        poll_interval: 5
        listen: nowhere
    """,
    )
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).splitlines() == [
        "invalid settings:",
        f"  {path}:2:3: clusters.dev.branches: Field required",
        f"  {path}:4:5: clusters.dev.repositories: 'not an owner/repo' is not an owner/repo name",
        f"  {path}:5:5: clusters.dev.branchs: Extra inputs are not permitted",
        f"  {path}:6:1: poll_interval: must be at least 30 seconds",
        f"  {path}:7:1: listen: must be HOST:PORT, e.g. 0.0.0.0:8080",
    ]


def test_settings_file_problems(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOTSTRAP_BOT_SETTINGS_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(SettingsError, match=r"BOOTSTRAP_BOT_SETTINGS_FILE: cannot read .*missing"):
        load_settings()
    path = settings_file(tmp_path, monkeypatch, "clusters: [\n")
    with pytest.raises(SettingsError, match=f"^{path}:2:1: "):
        load_settings()
    settings_file(tmp_path, monkeypatch, "- a\n")
    with pytest.raises(SettingsError, match="must be a mapping"):
        load_settings()


def test_environment_errors_name_the_variable(monkeypatch):
    monkeypatch.setenv("BOOTSTRAP_BOT_APP_ID", "not-a-number")
    monkeypatch.setenv("BOOTSTRAP_BOT_GITHUB_API_URL", "ftp://x")
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert "BOOTSTRAP_BOT_APP_ID: Input should be a valid integer" in message
    assert "BOOTSTRAP_BOT_GITHUB_API_URL: must be an http(s) URL" in message
    assert "not-a-number" not in message and "ftp://x" not in message


def test_key_and_key_file_together_are_refused(monkeypatch, tmp_path, private_key_pem):
    key_file = tmp_path / "app.pem"
    key_file.write_text(private_key_pem)
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY", private_key_pem)
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY_FILE", str(key_file))
    with pytest.raises(SettingsError, match="set either private_key or private_key_file"):
        load_settings()


def test_a_broken_key_is_refused_without_showing_it(monkeypatch):
    broken = "-----BEGIN RSA PRIVATE KEY-----\nTOPSECRETMATERIAL\n-----END RSA PRIVATE KEY-----\n"
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY", broken)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "not an unencrypted PEM private key" in str(info.value)
    assert "TOPSECRETMATERIAL" not in str(info.value)


def test_missing_key_file_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY_FILE", str(tmp_path / "nope.pem"))
    with pytest.raises(SettingsError, match=r"BOOTSTRAP_BOT_PRIVATE_KEY_FILE: .*cannot read it"):
        load_settings()


def test_secrets_never_appear_in_repr_or_the_redacted_summary(monkeypatch, private_key_pem):
    monkeypatch.setenv("BOOTSTRAP_BOT_PRIVATE_KEY", private_key_pem)
    monkeypatch.setenv("BOOTSTRAP_BOT_WEBHOOK_SECRET", WEBHOOK_SECRET)
    s = load_settings()
    key_body = private_key_pem.splitlines()[1]
    for text in (repr(s), str(s), str(s.redacted()), s.model_dump_json()):
        assert WEBHOOK_SECRET not in text
        assert key_body not in text
    redacted = s.redacted()
    assert redacted["webhook_secret"] == "<redacted>" and redacted["private_key"] == "<redacted>"
    assert redacted["private_key_fingerprint"] == s.private_key_fingerprint()


def test_cluster_needs_repositories_and_branches():
    with pytest.raises(ValueError):
        ClusterSettings(kubeconfig=Path("/k"), repositories=[], branches=["main"])
    with pytest.raises(ValueError):
        ClusterSettings(kubeconfig=Path("/k"), repositories=["o/r"], branches=[])


def test_the_readme_s_settings_file_loads(monkeypatch, tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = readme.split("The settings file:\n\n```yaml\n", 1)[1].split("```", 1)[0]
    files = tmp_path / "etc"
    for name in ("git/password", "kubeconfig-dev"):
        (files / name).parent.mkdir(parents=True, exist_ok=True)
        (files / name).write_text("x\n")
    settings_file(tmp_path, monkeypatch, example.replace("/etc/bootstrap-bot", str(files)))
    dev = load_settings().clusters["dev"]
    assert dev.git.type == "basic" and dev.git.secret_data()["password"] == b"x"
    assert dev.ready_timeout == timedelta(minutes=10)


def test_leader_election_settings(monkeypatch):
    assert load_settings().leader_election.mode == "auto"
    monkeypatch.setenv("BOOTSTRAP_BOT_LEADER_ELECTION__MODE", "lease")
    monkeypatch.setenv("BOOTSTRAP_BOT_LEADER_ELECTION__DURATION", "PT30S")
    election = load_settings().leader_election
    assert (election.mode, election.duration) == ("lease", timedelta(seconds=30))
    monkeypatch.setenv("BOOTSTRAP_BOT_LEADER_ELECTION__DURATION", "PT1S")
    with pytest.raises(SettingsError, match=r"LEADER_ELECTION__DURATION: .* 3 seconds"):
        load_settings()


def test_a_webhook_secret_loses_the_newline_a_secret_file_ends_in(monkeypatch):
    # kubectl create secret --from-file of a file written by `jq -r` or `echo`
    monkeypatch.setenv("BOOTSTRAP_BOT_WEBHOOK_SECRET", WEBHOOK_SECRET + "\n")
    s = load_settings()
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == WEBHOOK_SECRET


def test_a_job_timeout_a_deploy_could_not_finish_in_is_refused(monkeypatch, tmp_path):
    settings_file(
        tmp_path,
        monkeypatch,
        """\
        job_timeout: 600
        fork_pull_requests: ignore
        clusters:
          dev:
            kubeconfig: /k
            repositories: [example-org/landscape]
            branches: [main]
            ready_timeout: 400
    """,
    )
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "job_timeout (0:10:00) must be at least 5 minutes longer than " in str(info.value)
    assert "clusters.dev.ready_timeout (0:06:40)" in str(info.value)


def test_job_timeout_and_forks_default_to_what_a_deploy_and_a_public_repository_need(tmp_path):
    s = load_settings()
    assert s.job_timeout == timedelta(minutes=30)
    assert s.fork_pull_requests == "render"
