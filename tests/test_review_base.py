"""`vmsd-lint review` without --base: the base the mails name (the base-commit line of
`git format-patch --base`), else the commit holding the diffs' preimage blobs; a patch
that applies to neither says which base was tried.  Real git in throw-away repositories
(samples/field-removed/old committed), the real entry point."""
from __future__ import annotations

import json
import re
from pathlib import Path

from test_review import (  # noqa: F401 (env: a fixture)
    DEVICE,
    REMOVE_IN_DATA,
    assert_one_line_error,
    commit,
    edit,
    env,
    git,
    make_repo,
    vmsd_lint,
)

MOVED_ON = ("        VMSTATE_UINT32(old_out_data, PL061State),\n",
            "        VMSTATE_UINT32(old_out_data, PL061State), /* moved on */\n")


def moved_on_repo(tmp_path: Path, git_env: dict[str, str]) -> tuple[Path, str, str]:
    """A patch removing old_in_data made on the first commit, written with --base; then
    the branch moved on, changing a line of the hunk's context: the patch no longer
    applies to HEAD.  (repository, patch text, base commit id)"""
    repo = make_repo(tmp_path, git_env)
    base = git(repo, git_env, "rev-parse", "HEAD").strip()
    git(repo, git_env, "checkout", "-q", "-b", "topic")
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    commit(repo, git_env, "hw/gpio/pl061: drop old_in_data from migration")
    patch = git(repo, git_env, "format-patch", "--stdout", f"--base={base}", "-1")
    git(repo, git_env, "checkout", "-q", "main")
    edit(repo, DEVICE, *MOVED_ON)
    commit(repo, git_env, "hw/gpio/pl061: a comment")
    return repo, patch, base


def review_json(git_env: dict[str, str], repo: Path, patch: str, *args: str):
    return vmsd_lint(git_env, "review", "--no-cache", "--repo", str(repo), "--format", "json", "-", *args, stdin=patch)


def test_the_base_commit_line_picks_the_base(tmp_path, env):  # noqa: F811 (a fixture)
    repo, patch, base = moved_on_repo(tmp_path, env)
    assert f"\nbase-commit: {base}\n" in patch
    proc = review_json(env, repo, patch)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["old"]["commit"] == base
    assert [f["rule"] for f in data["findings"]] == ["field-removed"]
    assert any("base-commit line" in note for note in data["notes"])
    reply = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), "-", stdin=patch).stdout
    assert f"applied to {base[:12]}." in " ".join(reply.split())  # the id once, not "id (id)"


def test_without_the_line_the_preimage_blobs_pick_the_base(tmp_path, env):  # noqa: F811 (a fixture)
    repo, patch, base = moved_on_repo(tmp_path, env)
    bare = re.sub(r"^base-commit: .*\n", "", patch, flags=re.M)
    assert "base-commit" not in bare
    data = json.loads(review_json(env, repo, bare).stdout)
    assert data["old"]["commit"] == base
    assert any("preimage blobs" in note for note in data["notes"])


def test_an_explicit_base_wins_and_a_patch_that_does_not_apply_says_where_it_was_tried(
        tmp_path, env):  # noqa: F811 (a fixture)
    repo, patch, _ = moved_on_repo(tmp_path, env)
    proc = review_json(env, repo, patch, "--base", "HEAD")
    line = assert_one_line_error(proc, "hunk #1", "does not apply", "tried on HEAD (--base)", "pass --base REV")
    assert "Traceback" not in line
    # a series whose blobs no commit holds and with no base-commit line: HEAD, said so
    stranger = re.sub(r"^index [0-9a-f]+\.\.", "index 1234567..", re.sub(r"^base-commit: .*\n", "", patch,
                                                                           flags=re.M), flags=re.M)
    proc = review_json(env, repo, stranger)
    assert_one_line_error(proc, "tried on HEAD (HEAD (the default: no base-commit line", "pass --base REV")


def test_a_base_commit_the_repository_lacks_falls_back_to_the_blobs(tmp_path, env):  # noqa: F811 (a fixture)
    repo, patch, base = moved_on_repo(tmp_path, env)
    elsewhere = patch.replace(f"base-commit: {base}", "base-commit: " + "ab" * 20)
    data = json.loads(review_json(env, repo, elsewhere).stdout)
    assert data["old"]["commit"] == base
    assert any("is not in the repository" in note for note in data["notes"])
