"""Code and CI provenance of a captured run: a real ``git init`` repository (clean and
dirty) and GitHub Actions / GitLab CI variables, with secrets kept out."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from capture_helpers import TRAIN, base_env, run_python, write_script

from modelatlas.capture._facts import allowed_env, ci_info, git_info, remote_uri, strip_credentials
from modelatlas.client import Client
from modelatlas.kinds.uris import check_uri

pytestmark = pytest.mark.slow  # spawns Python and git processes


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _run(home: Path, number: int) -> tuple[dict[str, object], list[str]]:
    with Client.local(home) as client:
        run = client.assets.get(f"run:fraud/churn-v{number}")
        used = [r.target for r in client.assets.relations(run.ref, direction="out").items]
    return run.model_dump(mode="json"), used


def test_git_commit_remote_and_dirty_state(tmp_path: Path) -> None:
    repo, home = tmp_path / "repo", tmp_path / "home"
    write_script(repo / "jobs", "train.py", TRAIN)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "T")
    _git(repo, "remote", "add", "origin", "https://bot:s3cr3t-token@git.example.com/ml/churn.git")
    (repo / ".gitignore").write_text("*.csv\n*.npy\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    commit = _git(repo, "rev-parse", "HEAD")
    env = base_env(home, None, None)

    clean = run_python(["jobs/train.py"], cwd=repo, env=env)
    assert clean.returncode == 0, clean.stderr
    (repo / "jobs" / "train.py").write_text(TRAIN + "\n# tweak\n")
    dirty = run_python(["jobs/train.py"], cwd=repo, env=env)
    assert dirty.returncode == 0, dirty.stderr

    first, used_first = _run(home, 1)
    git = first["custom"]["capture"]["git"]  # type: ignore[index]
    assert git["commit"] == commit and git["dirty"] is False and git["branch"] == "main"
    assert git["remote"] == "https://git.example.com/ml/churn.git"
    assert git["path"] == "jobs/train.py"
    code_ref = f"code:fraud/churn@{commit[:12]}"
    assert code_ref in used_first
    second, used_second = _run(home, 2)
    assert second["custom"]["capture"]["git"]["dirty"] is True  # type: ignore[index]
    [dirty_code] = [u for u in used_second if u.startswith("code:")]
    assert dirty_code.startswith(f"{code_ref}-dirty-")
    with Client.local(home) as client:
        clean_code = client.assets.get(code_ref)
        assert clean_code.metadata == {"repository": "https://git.example.com/ml/churn.git",
                                       "commit": commit, "branch": "main",
                                       "path": "jobs/train.py"}
        assert client.assets.get(dirty_code).tags == ["dirty"]
    assert "s3cr3t" not in json.dumps([first, second])


def test_github_actions_metadata_is_recorded_and_secrets_are_not(tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    write_script(work, "train.py", TRAIN)
    sha = "0123456789abcdef0123456789abcdef01234567"
    env = base_env(home, None, None) | {
        "GITHUB_ACTIONS": "true", "GITHUB_SHA": sha, "GITHUB_REF": "refs/heads/main",
        "GITHUB_REPOSITORY": "acme/churn", "GITHUB_RUN_ID": "9001",
        "GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKFLOW": "train",
        "GITHUB_TOKEN": "ghs_leaky", "AWS_SECRET_ACCESS_KEY": "aws-leaky",
        "TRAIN_MODE": "fast", "OMP_NUM_THREADS": "2",
    }
    done = run_python(["train.py"], cwd=work, env=env)
    assert done.returncode == 0, done.stderr
    run, used = _run(home, 1)
    captured = run["custom"]["capture"]  # type: ignore[index]
    assert captured["ci"] == {
        "provider": "github_actions", "commit": sha, "ref": "refs/heads/main",
        "repository": "acme/churn", "run_id": "9001", "server_url": "https://github.com",
        "workflow": "train", "url": "https://github.com/acme/churn/actions/runs/9001",
    }
    assert captured["env"]["TRAIN_MODE"] == "fast"
    assert captured["env"]["OMP_NUM_THREADS"] == "2"
    # Outside a git checkout the code comes from the build's commit and repository.
    assert f"code:fraud/churn@{sha[:12]}" in used
    stored = json.dumps(run)
    assert "leaky" not in stored and "GITHUB_TOKEN" not in stored


def test_gitlab_ci_variables() -> None:
    info = ci_info({"GITLAB_CI": "true", "CI_COMMIT_SHA": "abc1234", "CI_PIPELINE_ID": "77",
                    "CI_JOB_URL": "https://gitlab.example.com/ml/churn/-/jobs/5",
                    "CI_JOB_TOKEN": "glcbt-leaky", "CI_PROJECT_PATH": "ml/churn"})
    assert info == {"provider": "gitlab_ci", "commit": "abc1234", "pipeline_id": "77",
                    "url": "https://gitlab.example.com/ml/churn/-/jobs/5",
                    "repository": "ml/churn"}
    assert ci_info({"PATH": "/bin"}) is None


def test_secret_looking_names_are_refused_even_when_allow_listed() -> None:
    kept, refused = allowed_env(
        ["OMP_NUM_THREADS", "WANDB_API_KEY", "DB_PASSWORD", "HF_TOKEN", "UNSET_VAR"],
        {"OMP_NUM_THREADS": "4", "WANDB_API_KEY": "k", "DB_PASSWORD": "p", "HF_TOKEN": "t"},
    )
    assert kept == {"OMP_NUM_THREADS": "4"}
    assert refused == ["WANDB_API_KEY", "DB_PASSWORD", "HF_TOKEN"]


@pytest.mark.parametrize(("remote", "clean"), [
    ("https://user:tok@github.com/a/b.git", "https://github.com/a/b.git"),
    ("git@github.com:a/b.git", "git@github.com:a/b.git"),
    ("https://github.com/a/b", "https://github.com/a/b"),
])
def test_remote_credentials_are_stripped(remote: str, clean: str) -> None:
    assert strip_credentials(remote) == clean


def test_a_local_path_remote_becomes_a_file_uri(tmp_path: Path) -> None:
    """A checkout cloned from a path on this machine (as CI clones often are) names its
    remote as a path, which the registry's URI rules refuse as a repository: the capture
    records it as a file: URI."""
    assert remote_uri("/srv/git/churn", tmp_path) == "file:///srv/git/churn"
    assert remote_uri("../up", tmp_path / "repo") == (tmp_path / "up").as_uri()
    for kept in ("https://github.com/a/b.git", "git@github.com:a/b.git",
                 "ssh://git@host/a/b"):
        assert remote_uri(kept, tmp_path) == kept
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    write_script(origin, "train.py", TRAIN)
    _git(origin, "init", "-q", "-b", "main")
    _git(origin, "add", ".")
    _git(origin, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-q",
         "-m", "first")
    _git(tmp_path, "clone", "-q", str(origin), str(clone))
    info = git_info(clone)
    assert info is not None and info.remote == origin.resolve().as_uri()
    check_uri(info.remote)  # what a code asset's repository must pass
