"""The items of the RouterOS menus that shape traffic, after every add, set and remove.

Only `/queue simple`, `/queue tree`, `/queue type`, `/ip firewall mangle` and
`/ip firewall address-list` are read; commands in other menus are skipped. `set`, `remove`,
`disable` and `enable` name their item by number (its position among the items this file
added: an export holds them all), by name, or by `[ find key=value ... ]`; a target that
cannot be resolved is refused with its line. `/queue type` also holds RouterOS's built-in
types, so a numbered `set` there cannot be resolved: it is skipped with a note, since the
leaf queue's kind only changes what netlab approximates anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.configs.inforce import Notes, Origin, refuse
from sim.configs.rsc_lexer import Command, Expr, Value

MENUS: dict[tuple[str, ...], str] = {
    ("queue", "simple"): "simple",
    ("queue", "tree"): "tree",
    ("queue", "type"): "type",
    ("ip", "firewall", "mangle"): "mangle",
    ("ip", "firewall", "address-list"): "address-list",
}


@dataclass(slots=True)
class Item:
    """One item of a menu: its arguments as finally set, and where it was added."""

    args: dict[str, Value]
    origin: Origin
    touched: list[Origin] = field(default_factory=list)

    def text(self, key: str, default: str = "") -> str:
        """The argument as text; a command expression is refused where a value is needed."""
        value = self.args.get(key, default)
        if isinstance(value, Expr):
            raise refuse(
                self.origin,
                f"{key}={value.text}: a command expression, never executed; write the value",
            )
        return value

    @property
    def disabled(self) -> bool:
        return self.args.get("disabled") == "yes"


def menu_items(cmds: list[Command], notes: Notes) -> dict[str, list[Item]]:
    """The items of each menu in MENUS, in order, after all the file's commands."""
    menus: dict[str, list[Item]] = {name: [] for name in MENUS.values()}
    for command in cmds:
        name = MENUS.get(command.menu)
        if name is not None:
            _apply(menus[name], name, command, notes)
    return menus


def _apply(items: list[Item], menu: str, command: Command, notes: Notes) -> None:
    verb = command.verb
    if verb == "add":
        _add(items, command)
        return
    if verb not in ("set", "remove", "disable", "enable", "unset"):
        if verb not in ("print", "export", "find", "get", "monitor", "comment", "edit"):
            raise refuse(command.origin, f"/{' '.join(command.menu)} {verb}: not taken")
        return
    chosen = _resolve(items, menu, command, notes)
    for item in chosen:
        item.touched.append(command.origin)
        if verb == "remove":
            items.remove(item)
        elif verb == "set":
            item.args.update(command.args)
        elif verb == "unset":
            item.args.pop(str(command.args.get("value-name", "")), None)
        else:
            item.args["disabled"] = "yes" if verb == "disable" else "no"


def _add(items: list[Item], command: Command) -> None:
    """Add an item; `place-before` (a number or name) puts it before that item."""
    args = dict(command.args)
    before = args.pop("place-before", None)
    item = Item(args, command.origin)
    if before is None:
        items.append(item)
        return
    if isinstance(before, Expr):
        raise refuse(command.origin, f"place-before={before.text}: a command expression")
    found = _by_number_or_name(items, before)
    if found is None:
        raise refuse(command.origin, f"place-before={before}: no such item in this file")
    items.insert(items.index(found), item)


def _resolve(items: list[Item], menu: str, command: Command, notes: Notes) -> list[Item]:
    """The items a set/remove/disable/enable acts on (see the module doc)."""
    target = command.target
    where = f"/{' '.join(command.menu)} {command.verb}"
    if target is None:
        raise refuse(command.origin, f"{where} names no item")
    if command.verb == "remove" and not items:
        notes.add(
            f"{where}: removes what the router held before this file; what the file adds is "
            "what is imported",
            command.origin,
            topic="remove-before",
        )
        return []
    if isinstance(target, Expr):
        conditions = target.find_conditions()
        if conditions is None:
            raise refuse(command.origin, f"{where} {target.text}: not a plain [ find k=v ]")
        chosen = [i for i in items if all(i.args.get(k) == v for k, v in conditions.items())]
        if not chosen and menu == "type" and set(conditions) == {"name"}:
            chosen = [Item({"name": conditions["name"]}, command.origin)]  # a built-in type
            items.append(chosen[0])
        return chosen
    numbers = [t for t in target.split(",") if t]
    found = [_by_number_or_name(items, t) for t in numbers]
    if all(f is not None for f in found) and not (menu == "type" and target[:1].isdigit()):
        return [f for f in found if f is not None]
    if menu == "type":
        notes.add(
            f"{where} {target}: a queue type by position, which depends on RouterOS's built-in "
            "types: skipped (a leaf's queue kind is approximated anyway)",
            command.origin,
        )
        return []
    raise refuse(command.origin, f"{where} {target}: no such item among those this file adds")


def _by_number_or_name(items: list[Item], ref: str) -> Item | None:
    if ref.isdigit():
        index = int(ref)
        return items[index] if index < len(items) else None
    return next((i for i in items if i.args.get("name") == ref), None)
