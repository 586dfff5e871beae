"""The Dockerfile. No container engine runs here, so the image is checked in two ways:

- its instructions are read and what matters is asserted (a pinned slim base, a non-root user
  the Deployment agrees with, volumes for everything written, no secrets, the health check);
- its build is replayed: the build context as `.dockerignore` leaves it, the COPY instructions
  into a source directory, and every RUN instruction run as written, with the image's paths
  moved under a temporary directory. The installed bot then serves, and the health check
  command answers.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import __version__
from bot.settings import Settings
from tests.integration.kube_models import built, one
from tests.integration.serve_process import serve, serve_environment
from tests.peers.github.app_key import AppKey

ROOT = Path(__file__).parents[3]
PREFIX = "/opt/bootstrap-bot"


@dataclass(frozen=True)
class Instruction:
    name: str
    flags: dict[str, str]
    #: the JSON (exec) form's list, or the shell form's words
    args: list[str]
    exec_form: bool


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions, with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    instructions = []
    for line in logical:
        name, _, rest = line.strip().partition(" ")
        flags = {}
        while flag := re.match(r"--([a-z-]+)=(\S*)\s+", rest.strip()):
            flags[flag[1]] = flag[2]
            rest = rest.strip()[flag.end() :]
        rest = rest.strip()
        if name.upper() == "HEALTHCHECK":  # HEALTHCHECK CMD [...]
            kind, _, rest = rest.partition(" ")
            assert kind == "CMD", line
            rest = rest.strip()
        if rest.startswith("["):
            instructions.append(Instruction(name.upper(), flags, json.loads(rest), True))
        else:
            instructions.append(Instruction(name.upper(), flags, shlex.split(rest), False))
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.name == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


def only(stage: list[Instruction], name: str) -> Instruction:
    (found,) = [i for i in stage if i.name == name]
    return found


def environment(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage:
        if instruction.name == "ENV":
            env.update(word.split("=", 1) for word in instruction.args)  # type: ignore[misc]
    return env


def deployment() -> dict[str, Any]:
    return one(built("deploy/base"), "Deployment")


def test_a_multi_stage_build_on_a_pinned_slim_python(dockerfile):
    (arg,) = [i for i in dockerfile if i.name == "ARG"]
    name, _, image = arg.args[0].partition("=")
    assert name == "PYTHON_IMAGE"
    pinned = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-([a-z]+)(@sha256:[0-9a-f]{64})?", image)
    assert pinned, f"{image} is not a pinned slim Python release"
    # the Python the test suite runs on
    assert (int(pinned[1]), int(pinned[2])) == sys.version_info[:2]
    build, final = stages(dockerfile)
    assert build[0].args == ["${PYTHON_IMAGE}", "AS", "build"]
    assert final[0].args == ["${PYTHON_IMAGE}"]
    (copy,) = [i for i in final if i.name == "COPY"]
    assert copy.flags == {"from": "build"} and copy.args == [PREFIX, PREFIX]


def test_runs_as_the_non_root_user_the_deployment_expects(dockerfile):
    final = stages(dockerfile)[-1]
    user, group = only(final, "USER").args[0].split(":")
    assert int(user) > 0 and int(group) > 0
    pod = deployment()["spec"]["template"]["spec"]
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (
        int(user),
        int(group),
    )
    # USER comes after every RUN: nothing runs as root at run time
    names = [i.name for i in final]
    assert names.index("USER") > max(i for i, n in enumerate(names) if n == "RUN")


def test_the_image_has_debians_skopeo_for_copying_oci_artifacts(dockerfile):
    final = stages(dockerfile)[-1]
    (install,) = [i for i in final if i.name == "RUN" and i.args[0] != "install"]
    assert install.exec_form and install.args[:2] == ["sh", "-c"]
    steps = [shlex.split(step) for step in install.args[2].split("&&")]
    assert steps == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "skopeo"],
        ["rm", "-rf", "/var/lib/apt/lists/*"],  # no package lists left in the image
    ]
    # the bot finds it where Debian puts it (/usr/bin): the base image's PATH is kept
    assert environment(final)["PATH"].endswith(":$PATH")


def test_serve_is_the_entrypoint_with_a_health_check_and_the_port_it_listens_on(dockerfile):
    final = stages(dockerfile)[-1]
    assert only(final, "ENTRYPOINT").args == ["bootstrap-bot"]
    assert only(final, "CMD").args == ["serve"]
    assert only(final, "EXPOSE").args == [Settings().listen.rpartition(":")[2]]
    health = only(final, "HEALTHCHECK")
    assert health.exec_form and health.args == ["bootstrap-bot", "healthcheck"]


def test_everything_written_is_a_volume_the_deployment_mounts_too(dockerfile):
    final = stages(dockerfile)[-1]
    env = environment(final)
    volumes = set(only(final, "VOLUME").args)
    assert volumes == {env["BOOTSTRAP_BOT_CACHE_DIR"], "/tmp"}
    assert env["HOME"] == "/tmp" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    container = deployment()["spec"]["template"]["spec"]["containers"][0]
    assert {m["mountPath"] for m in container["volumeMounts"]} >= volumes
    assert {"name": "BOOTSTRAP_BOT_CACHE_DIR", "value": env["BOOTSTRAP_BOT_CACHE_DIR"]} in (
        container["env"]
    )


SECRET_WORDS = re.compile(
    r"secret|password|token|private|credential|\.pem|\.key|config\.json", re.I
)


def test_no_secret_is_baked_in(dockerfile):
    for instruction in dockerfile:
        if instruction.name in ("ENV", "ARG"):
            names = [word.split("=", 1)[0] for word in instruction.args]
            assert not [n for n in names if SECRET_WORDS.search(n)], instruction
        if instruction.name == "COPY" and "from" not in instruction.flags:
            assert not [s for s in instruction.args[:-1] if SECRET_WORDS.search(s)], instruction
    # the build context is an allow-list: nothing else (settings, keys, .env) can be copied
    ignore = (ROOT / ".dockerignore").read_text().split("\n")
    rules = [line for line in ignore if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert not [r for r in rules if SECRET_WORDS.search(r) and r.startswith("!")]


def build_context() -> list[str]:
    """The files `.dockerignore` lets into the build context (its last matching rule wins)."""
    rules = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    kept = []
    for path in listed:
        included = True
        for rule in rules:
            negated, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            pattern = pattern.removeprefix("**/")
            hit = any(
                fnmatch.fnmatchcase(path, p) or path.startswith(p + "/")
                for p in (pattern, f"*/{pattern}")
            )
            if hit:
                included = negated
        if included:
            kept.append(path)
    return kept


def replay_build(dockerfile: list[Instruction], root: Path) -> None:
    """The build stage's COPY and RUN instructions, with `/` moved to `root`."""
    context = root / "context"
    for path in build_context():
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, context / path, follow_symlinks=False)
    build = stages(dockerfile)[0]
    workdir = root / only(build, "WORKDIR").args[0].lstrip("/")
    workdir.mkdir(parents=True)
    for instruction in build[1:]:
        if instruction.name == "COPY":
            *sources, target = instruction.args
            for source in sources:
                to = workdir / target
                if (context / source).is_dir():  # Docker copies a directory's contents
                    shutil.copytree(context / source, to, symlinks=True, dirs_exist_ok=True)
                else:
                    to.mkdir(parents=True, exist_ok=True)
                    shutil.copy(context / source, to, follow_symlinks=False)
        elif instruction.name == "RUN":
            assert instruction.exec_form, instruction
            argv = [a.replace(PREFIX, str(root / PREFIX.lstrip("/"))) for a in instruction.args]
            ran = subprocess.run(argv, cwd=workdir, capture_output=True, text=True)
            assert ran.returncode == 0, f"{argv} failed:\n{ran.stdout}{ran.stderr}"


def test_the_build_installs_a_bot_that_serves_and_passes_its_health_check(
    dockerfile, tmp_path, app_key: AppKey
):
    root = tmp_path / "image"
    replay_build(dockerfile, root)
    bin_dir = root / PREFIX.lstrip("/") / "bin"

    def run(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, **env, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        return subprocess.run(argv, capture_output=True, text=True, env=environment)

    assert run("bootstrap-bot", "--version").stdout == f"bootstrap-bot {__version__}\n"
    manifest = run("bootstrap-bot", "app-manifest", "--webhook-url", "https://bot.test/webhook")
    assert json.loads(manifest.stdout)["hook_attributes"]["url"] == "https://bot.test/webhook"
    built = run("kubectl", "kustomize", str(ROOT / "deploy/base"))
    assert built.returncode == 0 and "kind: Deployment" in built.stdout

    # The final stage's own RUN (the cache directory) and the installed bot serving.
    final = stages(dockerfile)[-1]
    (mkdir,) = [i for i in final if i.name == "RUN" and i.args[0] == "install"]
    argv = [a.replace("/var/", f"{root}/var/") for a in mkdir.args]
    if os.geteuid() != 0:  # only root may give the directory away; the rest is the same
        argv = [
            a
            for i, a in enumerate(argv)
            if a not in ("-o", "-g") and argv[i - 1] not in ("-o", "-g")
        ]
    subprocess.run(argv, check=True)
    assert (root / "var/cache/bootstrap-bot").is_dir()

    env = serve_environment(
        tmp_path,
        app_id=app_key.app_id,
        private_pem=app_key.private_pem,
        secret="s3cret",
        github_url="http://127.0.0.1:9",
        resync="false",
    )
    health = only(final, "HEALTHCHECK").args
    with serve(env, tmp_path / "serve.log", command=[str(bin_dir / "bootstrap-bot")]) as process:
        listen = process.base.removeprefix("http://")
        deadline = time.monotonic() + 60
        while not process.healthy():
            assert time.monotonic() < deadline, process.log.read_text()
            time.sleep(0.1)
        checked = run(*health, BOOTSTRAP_BOT_LISTEN=listen)
        assert checked.returncode == 0, checked.stderr
        process.process.kill()
        process.process.wait()
        stopped = run(*health, BOOTSTRAP_BOT_LISTEN=listen)
    assert stopped.returncode == 1 and "healthz" in stopped.stderr
