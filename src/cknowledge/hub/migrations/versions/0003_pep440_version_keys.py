"""Versions are keyed and ordered by PEP 440 (``packaging``): every stored version gets
the new key (``service.version_key``, written out here: epochs count, ``1.0+local`` is not ``1.0``,
``1.0-1`` is ``1.0.post1``) and every component's ``latest`` is chosen again in PEP 440
order.

Two stored versions that PEP 440 holds equal (``1.0-1`` and ``1.0.post1``, published
when the keys did not see it) both stay: the older one takes the new key, the later one
keeps its old key (found by its own text only as before the upgrade).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_versions = sa.table("versions", sa.column("id", sa.Integer),
                     sa.column("component_id", sa.Integer),
                     sa.column("version", sa.String), sa.column("version_key", sa.String))
_components = sa.table("components", sa.column("id", sa.Integer),
                       sa.column("latest", sa.String))


def upgrade() -> None:
    from packaging.utils import canonicalize_version
    from packaging.version import InvalidVersion, Version

    def version_key(text: str) -> str:   # service.version_key as of this revision
        return canonicalize_version(Version(text), strip_trailing_zero=True)

    def version_order(text: str) -> tuple[int, Version]:
        try:
            return 1, Version(text)
        except InvalidVersion:
            return 0, Version("0")

    bind = op.get_bind()
    rows = bind.execute(sa.select(_versions.c.id, _versions.c.component_id,
                                  _versions.c.version, _versions.c.version_key)
                        .order_by(_versions.c.id)).all()
    wanted: dict[int, str] = {}
    newest: dict[int, str] = {}
    for rid, comp, text, old in rows:
        try:
            wanted[rid] = version_key(text)
        except InvalidVersion:   # not PEP 440 (never published so): keep its key
            wanted[rid] = old
        if comp not in newest or version_order(text) > version_order(newest[comp]):
            newest[comp] = text
    taken: set[tuple[int, str]] = set()
    final: dict[int, str] = {}
    for rid, comp, _, _ in rows:   # the oldest row of equal versions takes the new key
        if (comp, wanted[rid]) not in taken:
            final[rid] = wanted[rid]
            taken.add((comp, wanted[rid]))
    for rid, comp, _, old in rows:   # the later ones keep theirs (made unique if need be)
        if rid not in final:
            final[rid] = old if (comp, old) not in taken else f"{old}#{rid}"
            taken.add((comp, final[rid]))
    changed = [(rid, final[rid]) for rid, _, _, old in rows if final[rid] != old]
    for rid, _ in changed:   # through a unique temporary key: one row's new key may be
        bind.execute(sa.update(_versions).where(_versions.c.id == rid)   # another's old
                     .values(version_key=f"\x01{rid}"))
    for rid, key in changed:
        bind.execute(sa.update(_versions).where(_versions.c.id == rid).values(version_key=key))
    for comp, text in newest.items():
        bind.execute(sa.update(_components).where(_components.c.id == comp)
                     .values(latest=text))


def downgrade() -> None:
    """The old keys are not kept; going back leaves the PEP 440 ones (lookups by equal
    forms keep working for the versions whose key did not change)."""
