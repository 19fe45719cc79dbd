"""The federation: regions as a tree (district -> region -> country) with a neighbour relation.

Committees sit in a region; councils speak for a node of the tree. These rules decide which
council is responsible for a committee and which regions are neighbours, so they are plain
functions over plain data, tested without Telegram or a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from domain.words import fold


@dataclass(frozen=True)
class Region:
    """One node of the region tree; the root is the whole federation."""

    id: str
    name: str
    parent: str | None
    timezone: str
    neighbours: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    # Longitude, latitude of the region's centre; only used to draw the region graph.
    position: tuple[float, float] | None = None

    def display_name(self, language: str) -> str:
        """The region's name in a language, falling back to its canonical name."""
        return self.names.get(language, self.name)


@dataclass(frozen=True)
class CouncilSeat:
    """A council the config provides for a node of the tree; a chat is linked to it later."""

    region: str
    name: str
    names: Mapping[str, str] = field(default_factory=dict)

    def display_name(self, language: str) -> str:
        return self.names.get(language, self.name)


@dataclass(frozen=True)
class Federation:
    """The configured federation; built once from the config and never mutated."""

    name: str
    regions: Mapping[str, Region]
    councils: Mapping[str, CouncilSeat]

    @property
    def root(self) -> Region:
        """The top of the tree, where the coordinating council sits."""
        return next(r for r in self.regions.values() if r.parent is None)

    def children(self, region_id: str) -> list[Region]:
        return [r for r in self.regions.values() if r.parent == region_id]

    def committee_regions(self) -> list[Region]:
        """Regions a committee can register in: the leaves of the tree, in config order."""
        parents = {r.parent for r in self.regions.values()}
        return [r for r in self.regions.values() if r.id not in parents]

    def ancestors(self, region_id: str) -> list[str]:
        """The region itself, then each node above it up to the root."""
        chain: list[str] = []
        current: str | None = region_id
        while current is not None:
            chain.append(current)
            current = self.regions[current].parent
        return chain

    def is_within(self, region_id: str, node_id: str) -> bool:
        """Whether a region lies in the subtree of a node (a council's area)."""
        return node_id in self.ancestors(region_id)

    def responsible_council(self, region_id: str, linked: Iterable[str]) -> str | None:
        """The nearest council above a region that has a chat linked, or None if none has.

        A committee's request goes to the council closest to it; where no regional council
        is linked yet, it rises to the next one, up to the coordinating council.
        """
        linked_set = set(linked)
        for node in self.ancestors(region_id):
            if node in linked_set:
                return node
        return None

    def find_region(self, text: str, language: str = "en") -> Region | None:
        """A committee region named by its id or by its name in any language, ignoring case."""
        wanted = fold(text)
        for region in self.committee_regions():
            candidates = {region.id, region.name, region.display_name(language), *region.names.values()}
            if wanted in {fold(c) for c in candidates}:
                return region
        return None
