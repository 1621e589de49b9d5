"""A deployment group as the function names it: one parser for its two spellings, `application/group`
(the function's own account and region) and the group's ARN (any account and region)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase

# CodeDeploy names: 1-100 characters of [A-Za-z0-9+=,.@_-].
_NAME = r"[A-Za-z0-9+=,.@_-]{1,100}"
_TARGET = re.compile(rf"({_NAME})/({_NAME})")
# A freeze may cover many groups: `*` matches any run of name characters, e.g. */prod or pay*/*.
NAME_GLOB = re.compile(r"[A-Za-z0-9+=,.@_*-]{1,100}")
_GLOB = re.compile(rf"({NAME_GLOB.pattern})/({NAME_GLOB.pattern})")
ACCOUNT_PATTERN = r"[0-9]{12}"  # not \d: that admits any Unicode digit
# A region code as AWS spells them (us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-7).
REGION_PATTERN = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-(?:north|south|east|west|central)(?:east|west)?-\d{1,2}"
_ARN_PREFIX = rf"arn:(aws[a-z-]*):codedeploy:({REGION_PATTERN}):({ACCOUNT_PATTERN}):deploymentgroup:"
_ARN = re.compile(rf"{_ARN_PREFIX}({_NAME})/({_NAME})")
_ARN_GLOB = re.compile(rf"{_ARN_PREFIX}({NAME_GLOB.pattern})/({NAME_GLOB.pattern})")
_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-iso-", "aws-iso"),
)


def partition(region: str) -> str:
    """The partition a region belongs to (aws, aws-cn, aws-us-gov, ...): the first part of its ARNs."""
    return next((name for prefix, name in _PARTITIONS if region.startswith(prefix)), "aws")


@dataclass(frozen=True, order=True)
class Place:
    """An account and region the function acts in; empty strings: the function's own."""

    account: str = ""
    region: str = ""

    def __str__(self) -> str:
        return f"account {self.account} in {self.region}" if self.account else "this account and region"


HOME = Place()


@dataclass(frozen=True, order=True)
class Target:
    application: str
    group: str
    place: Place = HOME

    @classmethod
    def parse(cls, text: str, globs: bool = False) -> "Target | None":
        """`application/group` or a deployment group's ARN as a Target; None when the text is neither.
        With `globs`, `*` may stand in the names (a freeze's pattern; the account and region are exact)."""
        # fullmatch: "$" would let a trailing newline in
        if found := (_GLOB if globs else _TARGET).fullmatch(text):
            return cls(found[1], found[2])
        found = (_ARN_GLOB if globs else _ARN).fullmatch(text)
        if found is None or found[1] != partition(found[2]):
            return None
        return cls(found[4], found[5], Place(found[3], found[2]))

    def at(self, place: Place) -> "Target":
        """This group in `place` if it was named without one (a short name read in another account)."""
        return self if self.place != HOME else Target(self.application, self.group, place)

    def arn(self, home: Place) -> str:
        """The group's ARN; `home` is the function's own account and region, where a short name points."""
        place = self.place if self.place != HOME else home
        return (
            f"arn:{partition(place.region)}:codedeploy:{place.region}:{place.account}:deploymentgroup:"
            f"{self.application}/{self.group}"
        )

    def matches(self, pattern: str, home: Callable[[], Place]) -> bool:
        """Whether a glob covers the group (the allowlist, freezes, calendars): `application/group`
        globs cover the function's own account and region's groups, ARN globs any group by its ARN.
        `home` gives the function's own place, asked only when an ARN glob meets a short name."""
        if pattern.startswith("arn:"):
            return fnmatchcase(str(self) if self.place != HOME else self.arn(home()), pattern)
        return self.place == HOME and fnmatchcase(str(self), pattern)

    def __str__(self) -> str:
        """`application/group` in the function's own account and region, the ARN elsewhere."""
        return f"{self.application}/{self.group}" if self.place == HOME else self.arn(self.place)
