"""The deployment files agree with each other and with the app (there is no Docker
engine here to build them): the image installs what .ci/run installs for PDF reports,
from the lock; compose runs the database, the queue, the app and a worker from one
image; the locks pin every dependency, and `make demo` installs no test tool."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from valuechain.web.probe import router as probe_router

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_runs() -> list[str]:
    """The Dockerfile's RUN commands, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line[4:] for line in text.splitlines() if line.startswith("RUN ")]


def apt_packages(command: str) -> set[str]:
    words = shlex.split(command)
    at = words.index("install")
    packages = set()
    for word in words[at + 1 :]:
        if word in ("&&", ";"):
            break
        if not word.startswith("-"):
            packages.add(word)
    return packages


def ci_pdf_packages() -> set[str]:
    """What .ci/run installs when missing, except the browser (only tests need it)."""
    text = (ROOT / ".ci" / "run").read_text()
    found = set()
    for group in re.findall(r"missing\+=\(([^)]*)\)", text):
        found.update(group.split())
    return found - {"chromium"}


def locked(name: str) -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9._-]+)==(\S+)", (ROOT / "requirements" / name).read_text(), re.M
    )
    return {canonicalize_name(n): v for n, v in pins}


def pulled_in_by(name: str, lock: str) -> set[str]:
    """What a lock says pulls ``name`` in (its ``# via`` lines; ``valuechain`` for a
    requirement of the project itself)."""
    text = (ROOT / "requirements" / lock).read_text()
    found = re.search(rf"^{re.escape(name)}==.*?(?=^[A-Za-z0-9]|\Z)", text, re.M | re.S | re.I)
    assert found, name
    via = re.findall(r"#\s+(?:via\s+)?([A-Za-z0-9._-]+)", found.group(0))
    return {canonicalize_name(v) for v in via if v != "via"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_the_image_installs_the_pdf_packages_ci_installs() -> None:
    installs = [apt_packages(run) for run in dockerfile_runs() if "apt-get install" in run]
    assert installs and set().union(*installs) == ci_pdf_packages()
    assert ci_pdf_packages() >= {"libpango-1.0-0", "fonts-liberation"}


def test_the_image_installs_from_the_lock_and_runs_as_a_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    pips = [run for run in dockerfile_runs() if run.startswith("pip install")]
    assert pips == [
        "pip install --require-hashes -r requirements/app.lock",
        "pip install --no-deps .",
    ]
    assert "COPY requirements/app.lock requirements/app.lock" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] != "root"


def test_the_healthcheck_asks_a_route_the_app_serves() -> None:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    check = re.search(r"^HEALTHCHECK .*CMD (.*)$", text, re.M)
    assert check is not None
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", check.group(1))
    assert path is not None
    assert path.group(1) in {route.path for route in probe_router.routes}  # type: ignore[attr-defined]
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None and '"--port", "8000"' in cmd.group(1)


def test_compose_runs_db_redis_app_and_a_worker_from_one_image() -> None:
    services = compose()["services"]
    assert {"db", "redis", "app", "worker"} <= set(services)
    app, worker = services["app"], services["worker"]
    assert app["image"] == worker["image"] and app["build"] == worker["build"] == "."
    assert worker["command"][:2] == ["valuechain", "worker"]
    for name in ("app", "worker"):
        env = services[name]["environment"]
        assert env["VALUECHAIN_DATABASE_URL"].startswith("postgresql://")
        assert "@db:5432/" in env["VALUECHAIN_DATABASE_URL"]
        assert env["VALUECHAIN_QUEUE_URL"].startswith("redis://redis:")
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    for name in ("db", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"
        assert any(v.endswith(":/var/lib/postgresql/data") or v.endswith(":/data")
                   for v in services[name]["volumes"])  # fmt: skip
    assert set(compose()["volumes"]) >= {"db", "redis"}


def project() -> dict[str, Any]:
    loaded: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return loaded


def test_the_locks_pin_every_dependency_and_the_app_lock_no_test_tool() -> None:
    app, test = locked("app.lock"), locked("test.lock")
    runtime = {canonicalize_name(Requirement(r).name) for r in project()["dependencies"]}
    tools = {
        canonicalize_name(Requirement(r).name) for r in project()["optional-dependencies"]["test"]
    }
    assert runtime <= set(app)
    assert runtime | tools <= set(test)
    # The app runs in production on the versions the tests ran on.
    assert all(test[name] == version for name, version in app.items())
    # A test tool may be in the app's lock only when a runtime dependency needs it
    # (OR-Tools needs pandas), never for the tests' sake.
    for name in (tools - runtime) & set(app):
        assert pulled_in_by(name, "app.lock") - {"valuechain"}, (
            f"{name}: a test tool in the app's lock"
        )
    for name in (*runtime, *tools):
        requirement = next(
            Requirement(r)
            for r in (*project()["dependencies"], *project()["optional-dependencies"]["test"])
            if canonicalize_name(Requirement(r).name) == name
        )
        assert requirement.specifier.contains(test[name], prereleases=True), name


def test_make_demo_installs_the_app_lock_and_make_test_the_test_lock() -> None:
    makefile = (ROOT / "Makefile").read_text()

    def recipe(target: str) -> str:
        found = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", makefile, re.M)
        assert found is not None, target
        return found.group(0)

    assert recipe("demo").startswith("demo: $(APP_STAMP)")
    assert "-r requirements/app.lock" in recipe("$(APP_STAMP)")
    assert "-r requirements/test.lock" in recipe("$(TEST_STAMP)")
    for target in ("lint", "unit"):
        assert recipe(target).startswith(f"{target}: $(TEST_STAMP)")
    # CI runs exactly the README's test command.
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("\nmake test")
