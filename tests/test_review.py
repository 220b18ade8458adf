"""`vmsd-lint review PATCH|MBOX|-`: patches made with the real git in throw-away
repositories (samples/field-removed/old committed), reviewed by the real entry point.

The email replies are compared with snapshots under tests/data/ after dates, message ids,
commit ids and the version are normalised.  Regenerate after an intended change:
VMSD_LINT_UPDATE_SNAPSHOTS=1 pytest tests/test_review.py
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vmsd_lint.errors import InputError
from vmsd_lint.sources.apply import apply_hunks
from vmsd_lint.sources.patches import parse_diff, read_series

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
DATA = Path(__file__).resolve().parent / "data"
UPDATE = os.environ.get("VMSD_LINT_UPDATE_SNAPSHOTS") == "1"
DEVICE = "hw/gpio/pl061.c"
AUTHOR = ("Jane Developer", "jane@example.org")
DATE = "2026-01-05T10:15:00+0000"
MESSAGE_ID = "<20260105101500.12345-1-jane@example.org>"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    """A clean git environment: private HOME, fixed identity and dates (stable commit ids)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME=AUTHOR[0], GIT_AUTHOR_EMAIL=AUTHOR[1], GIT_AUTHOR_DATE=DATE,
               GIT_COMMITTER_NAME=AUTHOR[0], GIT_COMMITTER_EMAIL=AUTHOR[1], GIT_COMMITTER_DATE=DATE,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return env


def git(repo: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {args}: {proc.stderr}"
    return proc.stdout


def vmsd_lint(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vmsd_lint.cli.main", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)


def make_repo(tmp_path: Path, env: dict[str, str]) -> Path:
    """samples/field-removed/old committed (include/ copied as real files, not the symlink)."""
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLES / "field-removed" / "old", repo, symlinks=False)
    git(repo, env, "init", "-q", "-b", "main")
    git(repo, env, "add", ".")
    git(repo, env, "commit", "-q", "-m", "pl061 sample")
    return repo


def edit(repo: Path, path: str, old: str, new: str) -> None:
    target = repo / path
    text = target.read_text()
    assert old in text, f"{old!r} not in {path}"
    target.write_text(text.replace(old, new, 1))


def commit(repo: Path, env: dict[str, str], subject: str, body: str = "") -> None:
    git(repo, env, "commit", "-q", "-a", "-m", subject, *(["-m", body] if body else []))


def format_patches(repo: Path, env: dict[str, str], count: int, out: Path) -> Path:
    """The last COUNT commits as one file: a single patch with a fixed Message-Id, or a
    series threaded under a cover letter (as `b4 am` writes it).  Then the TEST repository
    is put back before them."""
    if count == 1:
        args = ["format-patch", "--stdout", "-1", f"--add-header=Message-Id: {MESSAGE_ID}"]
    else:
        args = ["format-patch", "--stdout", "--thread=shallow", "--cover-letter", f"-{count}"]
    out.write_text(git(repo, env, *args))
    git(repo, env, "reset", "-q", "--hard", f"HEAD~{count}")
    return out


def repo_state(repo: Path) -> dict[str, str]:
    """Hashes of what review must not change: refs, HEAD, index, config, the list of
    objects (and their bytes), and every working-tree file."""
    git_dir = repo / ".git"
    state = {}
    for path in sorted(repo.rglob("*")):
        if path.is_file():
            rel = str(path.relative_to(repo))
            kind = ("objects" if rel.startswith(".git/objects/") else
                    "refs" if rel.startswith((".git/refs/", ".git/packed-refs", ".git/HEAD")) else
                    "index" if rel == ".git/index" else "config" if rel == ".git/config" else
                    "git" if rel.startswith(".git/") else "worktree")
            state[f"{kind}:{rel}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    assert any(k.startswith("objects:") for k in state) and "index:.git/index" in state
    assert (git_dir / "config").is_file()
    return state


def normalise(reply: str, repo: Path, env: dict[str, str]) -> str:
    """Dates, git's message ids (they hold the time), commit ids and the version made stable."""
    for sha in git(repo, env, "rev-list", "--all").split():
        reply = reply.replace(sha[:12], "<commit>")
    reply = re.sub(r"^On .*?, (.*) wrote:$", r"On <date>, \1 wrote:", reply, flags=re.M)
    ids: dict[str, str] = {}
    reply = re.sub(r"<(?:[0-9a-f]{40}|cover)\.\d+\.git\.[^<>\s]+>",
                   lambda m: ids.setdefault(m.group(0), f"<message-id-{len(ids) + 1}>"), reply)
    return re.sub(r"^vmsd-lint \d+\.\d+\S*$", "vmsd-lint <version>", reply, flags=re.M)


def check_snapshot(name: str, text: str) -> None:
    expected = DATA / name
    if UPDATE:
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(text)
    assert expected.exists(), f"{expected} missing: run with VMSD_LINT_UPDATE_SNAPSHOTS=1 and review it"
    assert text == expected.read_text()


def assert_wrapped(reply: str) -> None:
    """Our own lines fit 72 columns; quoted patch lines are the author's; headers are
    folded at 78 (the SMTP policy), and a word longer than that stays whole."""
    in_headers = True
    for line in reply.splitlines():
        if line.startswith("From vmsd-lint "):  # the next reply of an mbox
            in_headers = True
        elif in_headers:
            in_headers = line != ""
            assert len(line) <= 78 or " " not in line.strip(), line
        elif not line.startswith(">"):
            assert len(line) <= 72, line


def assert_one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vmsd-lint: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


REMOVE_IN_DATA = ("        VMSTATE_UINT32(old_in_data, PL061State),\n", "")
REMOVE_ISENSE = ("        VMSTATE_UINT32(isense, PL061State),\n", "")


# --- one patch ----------------------------------------------------------------------------

@pytest.fixture()
def single(tmp_path: Path, env) -> tuple[Path, Path]:
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    commit(repo, env, "hw/gpio/pl061: drop old_in_data from migration",
           "old_in_data is recomputed from the pins, so stop sending it.")
    return repo, format_patches(repo, env, 1, tmp_path / "0001-pl061.patch")


def test_email_reply_to_a_breaking_patch(single, env):
    repo, patch = single
    before = repo_state(repo)
    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch), "--format", "email")
    assert proc.returncode == 1, proc.stderr
    reply = proc.stdout
    assert reply.startswith("Subject: Re: [PATCH] hw/gpio/pl061: drop old_in_data from migration\n")
    assert f"\nIn-Reply-To: {MESSAGE_ID}\n" in reply and f"\nReferences: {MESSAGE_ID}\n" in reply
    assert "On Mon, 5 Jan 2026 10:15:00 +0000, Jane Developer <jane@example.org> wrote:" in " ".join(
        reply.split("\n"))  # wrapped at 72 columns
    lines = reply.splitlines()
    removed = lines.index("> -        VMSTATE_UINT32(old_in_data, PL061State),")
    assert lines[removed - 1] == ">          VMSTATE_UINT32(old_out_data, PL061State),"
    assert lines[removed + 1] == "" and lines[removed + 2].startswith(
        "[field-removed] vmstate 'pl061': field 'old_in_data' (uint32, 4 bytes)")
    assert "QEMU will print: Missing section footer for pl061" in reply
    assert "Suggested fix: Replace the field with a VMSTATE_UNUSED placeholder" in reply
    assert "breaks migration backward" in reply and "\n-- \nvmsd-lint " in reply
    assert "> @@ -60,7 +60,6 @@" in reply and "[...]" in reply  # the commit message is cut
    assert_wrapped(reply)
    check_snapshot("review-field-removed.eml", normalise(reply, repo, env))
    assert repo_state(repo) == before


def test_standard_input_and_other_formats(single, env):
    repo, patch = single
    by_file = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch))
    by_stdin = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), "-", stdin=patch.read_text())
    assert by_stdin.returncode == 1 and by_stdin.stdout == by_file.stdout

    text = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch), "--format", "text")
    assert text.returncode == 1
    assert "hw/gpio/pl061.c:63: error: [field-removed]" in text.stdout
    assert "introduced by [PATCH] hw/gpio/pl061: drop old_in_data from migration" in text.stdout

    data = json.loads(vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch),
                                "--format", "json").stdout)
    (finding,) = data["findings"]
    assert finding["rule"] == "field-removed" and finding["path"] == "pl061/old_in_data"
    assert finding["introduced_by"] == "[PATCH] hw/gpio/pl061: drop old_in_data from migration"
    assert finding["commit"] is None  # `commit` is --per-commit's
    assert data["old"]["endpoint"] == "HEAD" and data["new"]["endpoint"] == "HEAD + patch"
    assert data["patches"][0]["message_id"] == MESSAGE_ID


def test_quoted_printable_crlf_mail(single, env, tmp_path):
    """The same patch as a mail client may send it: quoted-printable, CRLF line ends."""
    repo, patch = single
    import quopri

    head, _, body = patch.read_bytes().partition(b"\n\n")
    encoded = quopri.encodestring(body)
    head += b"\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable"
    mail = tmp_path / "qp.eml"
    mail.write_bytes((head + b"\n\n" + encoded).replace(b"\n", b"\r\n"))
    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mail), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert [f["path"] for f in json.loads(proc.stdout)["findings"]] == ["pl061/old_in_data"]


def test_reply_quotes_only_the_hunks_with_findings(tmp_path, env):
    """Other files and other hunks of the patch are cut, with "[...]" where they were."""
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, "#include", "/* PL061 GPIO, see the TRM */\n#include")
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    (repo / "hw" / "gpio" / "notes.c").write_text("/* nothing migrated here */\n")
    git(repo, env, "add", "hw/gpio/notes.c")
    commit(repo, env, "hw/gpio: notes, and drop old_in_data")
    patch = format_patches(repo, env, 1, tmp_path / "p.patch")
    assert patch.read_text().count("\n@@ ") == 3
    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch))
    assert proc.returncode == 1, proc.stderr
    quoted = [line for line in proc.stdout.splitlines() if line.startswith(">") or line == "[...]"]
    # hw/gpio/notes.c comes first in the patch: cut; so is pl061.c's first hunk (the comment)
    assert quoted[:7] == ["[...]", "> diff --git a/hw/gpio/pl061.c b/hw/gpio/pl061.c", quoted[2],
                          "> --- a/hw/gpio/pl061.c", "> +++ b/hw/gpio/pl061.c", "[...]",
                          "> @@ -60,7 +61,6 @@ static const VMStateDescription vmstate_pl061 = {"]
    assert quoted.count("[...]") == 2 and "notes.c" not in proc.stdout and "TRM" not in proc.stdout
    assert "> -        VMSTATE_UINT32(old_in_data, PL061State),\n\n[field-removed]" in proc.stdout


def test_a_patch_the_extractor_does_not_read_is_not_extracted_again(single, env, tmp_path):
    repo, _ = single
    (repo / "docs").mkdir()
    (repo / "docs" / "pl061.rst").write_text("PL061\n=====\n")
    git(repo, env, "add", "docs/pl061.rst")
    commit(repo, env, "docs: describe the PL061")
    patch = format_patches(repo, env, 1, tmp_path / "docs.patch")
    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch))
    assert proc.returncode == 0, proc.stderr
    assert "found no migration-breaking change in \"[PATCH] docs: describe the PL061\"" in " ".join(
        proc.stdout.split())


def test_long_hunk_is_cut_around_the_finding():
    from vmsd_lint.app.review import Shown
    from vmsd_lint.diff.findings import Finding
    from vmsd_lint.model import Location
    from vmsd_lint.report.email import quote_patch
    from vmsd_lint.sources.patches import Patch

    body = [f" line {n}" for n in range(1, 41)]
    body[19] = "-line 20"
    diff = parse_diff(["--- a/f.c", "+++ b/f.c", "@@ -1,40 +1,39 @@", *body], "patch 1/1")
    finding = Finding("field-removed", "error", ("backward", "forward"), "dev", "dev/f",
                      (("field", "f"), ("old_layout", "uint8, 1 byte"), ("after", " after 'e'")),
                      old=Location("f.c", 20))
    patch = Patch(1, 1, "[PATCH] f", None, None, None, None, None, None, "", diff)
    quoted = quote_patch(patch, [Shown(0, finding)])
    assert quoted[:5] == ["> --- a/f.c", "> +++ b/f.c", "> @@ -1,40 +1,39 @@", "[...]", ">  line 14"]
    removed = quoted.index("> -line 20")
    assert quoted[removed + 2].startswith("[field-removed] vmstate 'dev': field 'f' (uint8, 1 byte)")
    after = quoted[quoted.index(">  line 21"):]
    assert after[:4] == [">  line 21", ">  line 22", ">  line 23", "[...]"] and len(after) == 4


# --- a series -----------------------------------------------------------------------------

def test_series_findings_attributed_to_their_patches(tmp_path, env):
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    commit(repo, env, "hw/gpio/pl061: drop old_in_data")
    edit(repo, DEVICE, "#include", "/* PL061 GPIO, see the TRM */\n#include")  # shifts every line
    commit(repo, env, "hw/gpio/pl061: describe the device")
    edit(repo, DEVICE, *REMOVE_ISENSE)
    commit(repo, env, "hw/gpio/pl061: drop isense")
    mbox = format_patches(repo, env, 3, tmp_path / "series.mbox")
    assert mbox.read_text().count("\nSubject: [PATCH ") == 4  # 0/3 .. 3/3
    before = repo_state(repo)

    data = json.loads(vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mbox),
                                "--format", "json").stdout)
    by_path = {f["path"]: f["introduced_by"] for f in data["findings"]}
    assert by_path == {"pl061/old_in_data": "[PATCH 1/3] hw/gpio/pl061: drop old_in_data",
                       "pl061/isense": "[PATCH 3/3] hw/gpio/pl061: drop isense"}

    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mbox))
    assert proc.returncode == 1, proc.stderr
    replies = proc.stdout.split("From vmsd-lint Mon Sep 17 00:00:00 2001\n")[1:]
    assert [r.splitlines()[0] for r in replies] == ["Subject: Re: [PATCH 1/3] hw/gpio/pl061: drop old_in_data",
                                                    "Subject: Re: [PATCH 3/3] hw/gpio/pl061: drop isense"]
    assert "field 'old_in_data'" in replies[0] and "field 'isense'" not in replies[0]
    assert "field 'isense'" in replies[1] and "field 'old_in_data'" not in replies[1]
    # patch 3 is quoted with its own line numbers, which patch 2 shifted by one
    assert "> -        VMSTATE_UINT32(isense, PL061State),\n\n[field-removed] vmstate 'pl061': field 'isense'" \
        in replies[1]
    cover_id = re.search(r"^Message-Id: (<[^>]+>)", mbox.read_text(), re.M).group(1)
    references = email.message_from_string(replies[1], policy=email.policy.default)["References"]
    assert re.fullmatch(rf"{re.escape(cover_id)} <[^>]+>", " ".join(references.split()))  # (folded at 78)
    assert "as patch 3 of 3" in " ".join(replies[1].split()) and "1 other finding of the series is in the reply to its patch" in " ".join(replies[1].split())
    for reply in replies:
        assert_wrapped(reply)
    check_snapshot("review-series.mbox", normalise(proc.stdout, repo, env))
    assert repo_state(repo) == before


def test_series_whose_second_patch_reverts_the_first_reports_nothing(tmp_path, env):
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    commit(repo, env, "hw/gpio/pl061: drop old_in_data")
    git(repo, env, "revert", "--no-edit", "HEAD")
    mbox = format_patches(repo, env, 2, tmp_path / "series.mbox")

    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mbox))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("vmsd-lint ") and "found no migration-breaking change" in proc.stdout
    assert "the 2 patches of \"[PATCH 0/2] *** SUBJECT HERE ***\"" in " ".join(proc.stdout.split())
    assert "1 VMSD in 1 section before" in " ".join(proc.stdout.split())
    assert len(proc.stdout.strip().split("\n\n")) == 1  # one paragraph
    assert_wrapped(proc.stdout)
    quiet = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mbox), "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    data = json.loads(vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mbox),
                                "--format", "json").stdout)
    assert data["findings"] == [] and len(data["patches"]) == 2


def test_a_break_that_goes_and_comes_back_is_the_reintroducing_patchs(tmp_path, env):
    """One attribution policy with --per-commit (timeline.py): a finding belongs to the patch
    after which it persists to the end, not to the first patch that showed it."""
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    commit(repo, env, "hw/gpio/pl061: drop old_in_data")
    git(repo, env, "revert", "--no-edit", "HEAD")
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    commit(repo, env, "hw/gpio/pl061: drop old_in_data again")
    mbox = format_patches(repo, env, 3, tmp_path / "series.mbox")
    data = json.loads(vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mbox),
                                "--format", "json").stdout)
    assert [(f["path"], f["introduced_by"]) for f in data["findings"]] == \
        [("pl061/old_in_data", "[PATCH 3/3] hw/gpio/pl061: drop old_in_data again")]
    reply = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(mbox)).stdout
    assert "drop old_in_data again" in reply


# --- bad input ----------------------------------------------------------------------------

def test_patch_that_does_not_apply(single, env):
    repo, patch = single
    edit(repo, DEVICE, "VMSTATE_UINT32(old_out_data, PL061State),", "VMSTATE_UINT32(old_out_data, PL061State), ")
    commit(repo, env, "whitespace")
    before = repo_state(repo)
    # (without --base the preimage blobs pick HEAD~1, where it applies: test_review_base.py)
    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), "--base", "HEAD", str(patch))
    assert_one_line_error(proc, "patch 1/1 'hw/gpio/pl061.c': hunk #1 (@@ -60,7 +60,6 @@) does not apply",
                          "tried on HEAD (--base)")
    assert proc.stdout == "" and repo_state(repo) == before


HOSTILE = """\
From: Mallory <m@example.org>
Subject: [PATCH] innocent

diff --git a/{path} b/{path}
new file mode 100644
--- /dev/null
+++ b/{path}
@@ -0,0 +1 @@
+[core]
"""


@pytest.mark.parametrize("path", ["../outside.c", ".git/config", "hw/../../x.c", "hw/.GIT/hooks/pre-commit"])
def test_hostile_paths_are_refused(single, env, path, tmp_path):
    repo, _ = single
    patch = tmp_path / "hostile.patch"
    patch.write_text(HOSTILE.format(path=path))
    assert_one_line_error(vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch)),
                          "refusing the path")


def test_absolute_path_is_refused(single, env, tmp_path):
    repo, _ = single
    patch = tmp_path / "absolute.patch"
    patch.write_text("--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+mallory\n")
    assert_one_line_error(vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(patch)),
                          "refusing the path '/etc/passwd'")


def test_no_patch_in_input(single, env, tmp_path):
    repo, _ = single
    empty = tmp_path / "cover.eml"
    empty.write_text("From: a@b\nSubject: [PATCH 0/2] cover\n\nno diff here\n")
    assert_one_line_error(vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(empty)),
                          "no patch found")
    assert_one_line_error(vmsd_lint(env, "review", "--repo", str(repo), str(tmp_path / "missing.patch")),
                          "missing.patch")


# --- the applier --------------------------------------------------------------------------

def hunks(diff: str):
    (file_diff,) = parse_diff(diff.splitlines(), "patch 1/1")
    return file_diff


def test_hunks_apply_at_an_offset_and_without_final_newline():
    base = "".join(f"line {n}\n" for n in range(1, 11)) + "last"
    diff = hunks("--- a/f.c\n+++ b/f.c\n@@ -3,3 +3,3 @@\n line 3\n-line 4\n+LINE 4\n line 5\n"
                 "@@ -10,2 +10,2 @@\n line 10\n-last\n\\ No newline at end of file\n+last\n")
    assert apply_hunks(base, diff.hunks, "t") == base.replace("line 4\n", "LINE 4\n") + "\n"
    shifted = "extra\nextra\n" + base
    assert apply_hunks(shifted, diff.hunks, "t") == shifted.replace("line 4\n", "LINE 4\n") + "\n"
    with pytest.raises(InputError, match=r"hunk #1 \(@@ -3,3 \+3,3 @@\) does not apply"):
        apply_hunks(base.replace("line 5", "line five"), diff.hunks, "t")


def test_renames_new_and_deleted_files_are_parsed():
    diff = parse_diff(("diff --git a/old.c b/new.c\nsimilarity index 100%\nrename from old.c\nrename to new.c\n"
                       "diff --git a/gone.h b/gone.h\ndeleted file mode 100644\nindex 1..0\n--- a/gone.h\n"
                       "+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
                       'diff --git "a/sp ace.c" "b/sp ace.c"\nnew file mode 100644\n--- /dev/null\n'
                       '+++ "b/sp ace.c"\n@@ -0,0 +1 @@\n+y\n').splitlines(), "patch 1/1")
    assert [(d.old_path, d.new_path) for d in diff] == [("old.c", "new.c"), ("gone.h", None), (None, "sp ace.c")]


def test_read_series_orders_patches_and_keeps_the_cover(tmp_path):
    parts = []
    for n in (2, 0, 1):
        diff = "" if n == 0 else f"---\ndiff --git a/f{n}.c b/f{n}.c\n--- a/f{n}.c\n+++ b/f{n}.c\n@@ -1 +1 @@\n-a\n+b\n"
        parts.append(f"From 0000 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH v2 {n}/2] p{n}\n"
                     f"Message-Id: <{n}@b>\n\nmessage {n}\n{diff}")
    mbox = tmp_path / "s.mbox"
    mbox.write_text("\n".join(parts))
    patches, cover = read_series(str(mbox))
    assert [p.subject for p in patches] == ["[PATCH v2 1/2] p1", "[PATCH v2 2/2] p2"]
    assert [p.name for p in patches] == ["patch 1/2", "patch 2/2"] and cover.subject == "[PATCH v2 0/2] p0"
    assert patches[0].message == "message 1" and patches[0].files[0].path == "f1.c"


def test_a_huge_subject_is_read_in_bounded_time(tmp_path):
    """4 MB of RFC 2047 words in a Subject: decode_header() is quadratic in them (58 s)."""
    words = " ".join(["=?utf-8?q?caf=C3=A9?= x"] * 170_000)
    mail = tmp_path / "big.eml"
    mail.write_text(f"From: A <a@b>\nSubject: [PATCH] {words}\n\n---\n"
                    "diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-a\n+b\n")
    began = time.monotonic()
    (patch,), _ = read_series(str(mail))
    assert time.monotonic() - began < 10
    assert patch.subject.startswith("[PATCH] café x café x") and patch.subject.endswith(" [...]")
    assert len(patch.subject) < 70_000


def test_a_hunk_that_does_not_apply_is_refused_in_linear_time():
    """Looking for a 5,000-line hunk in a 40,000-line file compared lists at every line."""
    base = "".join(f"line {n % 3}\n" for n in range(40_000))
    context = "".join(f" line {n % 3}\n" for n in range(5_000))
    diff = hunks(f"--- a/f.c\n+++ b/f.c\n@@ -20000,5001 +20000,5001 @@\n{context}-no such line\n+x\n")
    began = time.monotonic()
    with pytest.raises(InputError, match=r"hunk #1 .* does not apply"):
        apply_hunks(base, diff.hunks, "t")
    assert time.monotonic() - began < 2


def test_a_long_series_is_not_a_recursion(tmp_path):
    """Each patch of a series applies onto the tree the one before made: 2,000 of them
    nested 2,000 readers (a RecursionError from ~490 patches)."""
    from vmsd_lint.sources.apply import apply_patch
    from vmsd_lint.sources.patches import Patch
    from vmsd_lint.sources.tree import directory_tree

    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "a.c").write_text("0\n")
    (tmp_path / "hw" / "b.c").write_text("b\n")  # read through every patch's tree
    tree = directory_tree(str(tmp_path))
    for n in range(1, 2001):
        diff = hunks(f"--- a/hw/a.c\n+++ b/hw/a.c\n@@ -1 +1 @@\n-{n - 1}\n+{n}\n")
        tree = apply_patch(tree, Patch(n, 2000, "", None, None, None, None, None, None, "", [diff]), f"+{n}")
    assert tree.read(tree.files) == {"hw/a.c": b"2000\n", "hw/b.c": b"b\n"}
    assert tree.read_path("hw/b.c") == b"b\n"


# --- the real QEMU repository -------------------------------------------------------------

EXAMPLE = ROOT / "docs" / "review-example.txt"


def qemu_patch(qemu_repo: str, tmp_path: Path, env: dict[str, str]) -> Path:
    """A QEMU-style patch on v10.0.2 dropping serial's lsr, committed in a scratch clone
    (objects shared with the real repository, never written to it) without a checkout."""
    clone = tmp_path / "qemu-clone"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", qemu_repo, str(clone)], env=env, check=True)
    source = git(clone, env, "show", "v10.0.2:hw/char/serial.c")
    assert source.count("        VMSTATE_UINT8(lsr, SerialState),\n") == 1
    blob = git(clone, env, "hash-object", "-w", "--stdin",
               stdin=source.replace("        VMSTATE_UINT8(lsr, SerialState),\n", "")).strip()
    index_env = {**env, "GIT_INDEX_FILE": str(tmp_path / "scratch-index")}
    git(clone, index_env, "read-tree", "v10.0.2")
    git(clone, index_env, "update-index", "--cacheinfo", f"100644,{blob},hw/char/serial.c")
    tree = git(clone, index_env, "write-tree").strip()
    message = ("hw/char/serial: drop lsr from migration\n\n"
               "The line status register is recomputed from the FIFO state on load,\n"
               "so there is no need to migrate it.\n\n"
               f"Signed-off-by: {AUTHOR[0]} <{AUTHOR[1]}>\n")
    commit_id = git(clone, env, "commit-tree", tree, "-p", "v10.0.2", stdin=message).strip()
    patch = tmp_path / "0001-hw-char-serial-drop-lsr-from-migration.patch"
    patch.write_text(git(clone, env, "format-patch", "--stdout", "-1", commit_id,
                         f"--add-header=Message-Id: {MESSAGE_ID}"))
    return patch


def qemu_repo_state(repo: str) -> dict[str, str]:
    """The real repository's refs, HEAD, config, index and the list of its object files."""
    git_dir = Path(subprocess.run(["git", "-C", repo, "rev-parse", "--absolute-git-dir"], capture_output=True,
                                  text=True, check=True).stdout.strip())
    state = {}
    for path in sorted(git_dir.rglob("*")):
        rel = str(path.relative_to(git_dir))
        if path.is_file() and (rel.startswith(("refs/", "objects/")) or rel in ("HEAD", "config", "index",
                                                                              "packed-refs")):
            state[rel] = (hashlib.sha256(path.read_bytes()).hexdigest() if not rel.startswith("objects/")
                          else str(path.stat().st_size))
    return state


@pytest.mark.qemu
def test_review_of_a_qemu_patch(qemu_repo, tmp_path, env):
    patch = qemu_patch(qemu_repo, tmp_path, env)
    before = qemu_repo_state(qemu_repo)
    proc = vmsd_lint(env, "review", "--repo", qemu_repo, "--base", "v10.0.2", "--cache-dir",
                     str(tmp_path / "cache"), str(patch))
    assert proc.returncode == 1, proc.stderr
    reply = proc.stdout
    assert reply.startswith("Subject: Re: [PATCH] hw/char/serial: drop lsr from migration\n")
    assert "> -        VMSTATE_UINT8(lsr, SerialState),\n\n[field-removed] vmstate 'serial': field 'lsr' (uint8, 1 byte)" \
        in reply
    assert "> @@ -833,7 +833,6 @@ const VMStateDescription vmstate_serial = {" in reply
    assert_wrapped(reply)
    assert qemu_repo_state(qemu_repo) == before
    version = re.compile(r"^vmsd-lint \d+\.\d+\S*$", re.M)
    if UPDATE:
        EXAMPLE.write_text(reply)
    assert version.sub("vmsd-lint <version>", reply) == version.sub("vmsd-lint <version>", EXAMPLE.read_text())


def test_a_reply_comment_keeps_an_odd_file_name_on_its_line():
    """A file name holding a newline or an escape (a stranger's patch) is written with
    escapes in the reply's comment, never as a line of its own."""
    from vmsd_lint.diff.findings import new_finding
    from vmsd_lint.model import Location
    from vmsd_lint.report.email import comment

    finding = new_finding("section-removed", vmsd="x", path="x", args={"owner": "o", "section": "x"},
                          old=Location("hw/a\nFrom: evil@example.org\x1b[2J.c", 3))
    lines = comment(finding, located=False)
    assert not any(c in "".join(lines) for c in "\n\x1b")
    assert "hw/a\\nFrom: evil@example.org\\x1b[2J.c:3" in " ".join(lines)
