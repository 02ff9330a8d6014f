"""RouterOS exports and scripts (`.rsc`) read into the shaping in force.

Files are lexed (`rsc_lexer`), their shaping menus replayed (`rsc_menus`), queue types,
address lists and mangle marks resolved (`rsc_types`, `rsc_marks`), then simple queues
(`rsc_simple`) or queue trees (`rsc_tree`) become the two class trees. Nothing from a file
is executed: a `[ ... ]` expression is kept as text and refused where its value would count.
"""

from __future__ import annotations

from pathlib import Path

from sim.configs.inforce import Notes, ShapingInForce
from sim.configs.rsc_lexer import commands
from sim.configs.rsc_marks import address_lists, packet_marks
from sim.configs.rsc_menus import menu_items
from sim.configs.rsc_simple import simple_queues
from sim.configs.rsc_tree import tree_queues
from sim.configs.rsc_types import queue_types
from sim.configs.text import read_text
from sim.model.errors import ConfigError


def read_routeros(paths: list[Path]) -> ShapingInForce:
    """The shaping of one router, from one or more of its `.rsc` files (read in order)."""
    notes = Notes()
    cmds = []
    for path in paths:
        cmds += commands(read_text(path, "a RouterOS export (.rsc)"), str(path))
    menus = menu_items(cmds, notes)
    types = queue_types(menus["type"], notes)
    lists = address_lists(menus["address-list"], notes)
    marks = packet_marks(menus["mangle"], lists, notes)
    files = tuple(str(p) for p in paths)
    if menus["simple"]:
        if menus["tree"]:
            notes.add(
                "the file has both simple queues and a queue tree: the simple queues are "
                "imported, the queue tree is left out",
                menus["tree"][0].origin,
            )
        trees = simple_queues(menus["simple"], types, marks, notes)
        return ShapingInForce(
            "routeros",
            files,
            tuple(trees.down),
            tuple(trees.up),
            tuple(trees.circuits),
            tuple(notes.items),
        )
    if menus["tree"]:
        down, up, circuits = tree_queues(menus["tree"], types, marks, notes)
        return ShapingInForce(
            "routeros", files, tuple(down), tuple(up), tuple(circuits), tuple(notes.items)
        )
    raise ConfigError(
        files[0], "", "no /queue simple or /queue tree entries: nothing shapes traffic here"
    )
