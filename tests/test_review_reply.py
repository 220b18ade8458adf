"""The reply `vmsd-lint review` writes is a message the list accepts, read back with the
standard library's parser: RFC 2047 encoded names, folded To/Cc, a charset and a transfer
encoding.  The patch is written by the real `git format-patch`, by an author whose name
is not ASCII, with a Cc list longer than a header line may be."""
from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from test_review import (  # noqa: F401 (env: a fixture)
    DEVICE,
    REMOVE_IN_DATA,
    edit,
    env,
    git,
    make_repo,
    vmsd_lint,
)

AUTHOR = "Philippe Mathieu-Daudé"
CC = [f"Réviewer Number{n} <reviewer{n}@example.org>" for n in range(12)]


def test_a_reply_to_a_non_ascii_author_with_a_long_cc_is_a_valid_message(tmp_path, env):  # noqa: F811
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    author = {**env, "GIT_AUTHOR_NAME": AUTHOR}
    git(repo, author, "commit", "-q", "-a", "-m", "hw/gpio/pl061: drop old_in_data from migration")
    patch = git(repo, author, "format-patch", "--stdout", "-1", "--to=qemu-devel@nongnu.org",
                *[f"--cc={cc}" for cc in CC])
    git(repo, env, "reset", "-q", "--hard", "HEAD~1")
    assert "=?UTF-8?q?" in patch  # git encoded the name: the review decodes it, and must encode it again

    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), "-", stdin=patch)
    assert proc.returncode == 1, proc.stderr
    head, _, _ = proc.stdout.partition("\n\n")
    assert head.isascii(), head  # names as encoded words, never raw UTF-8 in a header
    assert all(len(line) <= 78 for line in head.splitlines()), head  # folded
    reply = email.message_from_bytes(proc.stdout.encode(), policy=email.policy.default)  # as a mailer reads it
    assert isinstance(reply, EmailMessage) and not reply.defects

    [to] = reply["To"].addresses
    assert (to.display_name, to.addr_spec) == (AUTHOR, "jane@example.org")
    cc = [str(address) for address in reply["Cc"].addresses]
    assert cc == ["qemu-devel@nongnu.org", *CC]
    assert reply["Subject"] == "Re: [PATCH] hw/gpio/pl061: drop old_in_data from migration"
    assert reply.get_content_type() == "text/plain" and reply.get_content_charset() == "utf-8"
    assert reply["Content-Transfer-Encoding"] == "8bit"  # the attribution line holds the name
    body = reply.get_content()
    assert f"{AUTHOR} <" in " ".join(body.split()) and "[field-removed] vmstate 'pl061'" in body


def test_a_patch_whose_headers_were_not_utf8_still_gets_a_reply(tmp_path, env):  # noqa: F811 (a fixture)
    """Latin-1 bytes in the From name and Subject (an old mailer): the reply is still a
    message the parser reads without defects, the bytes it cannot carry replaced."""
    repo = make_repo(tmp_path, env)
    edit(repo, DEVICE, *REMOVE_IN_DATA)
    git(repo, env, "commit", "-q", "-a", "-m", "hw/gpio/pl061: drop old_in_data from migration")
    patch = git(repo, env, "format-patch", "--stdout", "-1").encode()
    git(repo, env, "reset", "-q", "--hard", "HEAD~1")
    patch = patch.replace(b"From: Jane Developer", b"From: Jos\xe9 Developer", 1).replace(
        b"Subject: [PATCH]", b"Subject: [PATCH] caf\xe9:", 1)
    (tmp_path / "latin1.patch").write_bytes(patch)  # bytes as they came, not re-encoded
    proc = vmsd_lint(env, "review", "--no-cache", "--repo", str(repo), str(tmp_path / "latin1.patch"))
    assert proc.returncode == 1, proc.stderr
    reply = email.message_from_bytes(proc.stdout.encode(), policy=email.policy.default)
    assert not reply.defects and reply["Subject"].startswith("Re: [PATCH] caf")
    assert reply["To"].addresses[0].addr_spec == "jane@example.org"
