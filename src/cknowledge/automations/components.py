"""Component automations that, for now, carry the core entry actions.

Later work gives each its own actions (``run script``, ``detect soft``, ``install
package``, ``benchmark``, ...); the core actions come from :class:`Automation`.
"""

from __future__ import annotations

from ..kernel.automation import Automation


class Dataset(Automation):
    name = "dataset"
    summary = "data sets and their variants"


class Model(Automation):
    name = "model"
    summary = "trained models with checksums"


class Soft(Automation):
    name = "soft"
    summary = "software detection plugins"


class Solution(Automation):
    name = "solution"
    summary = "benchmark solution manifests"
