"""A deployment group as the function names it: one parser, one string form (application/group)."""

import re
from dataclasses import dataclass

# CodeDeploy names: 1-100 characters of [A-Za-z0-9+=,.@_-].
_NAME = r"[A-Za-z0-9+=,.@_-]{1,100}"
_TARGET = re.compile(rf"({_NAME})/({_NAME})")
# A freeze may cover many groups: `*` matches any run of name characters, e.g. */prod or pay*/*.
NAME_GLOB = re.compile(r"[A-Za-z0-9+=,.@_*-]{1,100}")


@dataclass(frozen=True, order=True)
class Target:
    application: str
    group: str

    @classmethod
    def parse(cls, text: str) -> "Target | None":
        """`application/group` as a Target; None when the text is not one."""
        found = _TARGET.fullmatch(text)  # fullmatch: "$" would let a trailing newline in
        return cls(found[1], found[2]) if found else None

    def __str__(self) -> str:
        return f"{self.application}/{self.group}"
