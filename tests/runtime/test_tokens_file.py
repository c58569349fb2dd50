"""The tokens file (``AUTH_TOKENS_FILE``) is read like every YAML file a person writes: a bad one is
refused at start-up, naming the file and the line of the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from siaga_runtime.auth import Authenticator, TokensFileError, hash_token
from siaga_schemas.common import Institution

GOOD = f"""\
# a comment first
- token_sha256: {hash_token("kab-operator")}
  subject: operator-35.71
  institution: kpu
  region: "35.71"
  roles: [operator]
- token_sha256: {hash_token("national")}
  subject: bawaslu-ri
  institution: bawaslu
  region: null
  roles: [reader]
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "tokens.yaml"
    path.write_text(text)
    return str(path)


def test_a_good_file_maps_each_token_to_its_principal(tmp_path: Path) -> None:
    auth = Authenticator.from_file(_write(tmp_path, GOOD))
    operator = auth.authenticate("kab-operator")
    assert operator is not None
    assert (operator.subject, operator.institution, operator.region) == (
        "operator-35.71",
        Institution.KPU,
        "35.71",
    )
    assert operator.roles == frozenset({"operator"})
    national = auth.authenticate("national")
    assert national is not None and national.region is None and national.roles == frozenset({"reader"})
    assert auth.authenticate("unknown") is None


def test_a_file_of_comments_only_declares_no_principal(tmp_path: Path) -> None:
    auth = Authenticator.from_file(_write(tmp_path, "# nobody yet\n"))
    assert auth.authenticate("kab-operator") is None


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD.replace("institution: bawaslu", "institution: polisi"), 9, "1.institution"),
        (GOOD.replace("  subject: operator-35.71\n", ""), 2, "0.subject: Field required"),
        (GOOD.replace("roles: [reader]", "roles: [reader"), 12, "not valid YAML"),
        (GOOD.replace("  region: null\n", "  region: null\n  region: '35'\n"), 11, "duplicate key 'region'"),
        ("token_sha256: abc\nsubject: x\n", 1, "must be a list of principals"),
    ],
    ids=["unknown-institution", "missing-subject", "broken-yaml", "duplicate-key", "not-a-list"],
)
def test_a_bad_file_is_refused_naming_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TokensFileError) as caught:
        Authenticator.from_file(path)
    assert caught.value.source == path
    assert caught.value.line == line
    assert words in caught.value.message
    assert str(caught.value).startswith(f"{path}, line {line}: ")
    assert isinstance(caught.value, ValueError)  # as before: a ValueError at start-up
