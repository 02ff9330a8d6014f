"""A plan as a runnable POSIX sh script: the tc compiler's commands (sim.shaping.tc), commented.

The script runs exactly the command list the emulator runs (`tc -batch` there, one `tc` line
each here), so `netlab validate` tests the tree `netlab export` ships. Downloads are shaped
leaving the hub's LAN interface, by destination address; traffic from one site to another
bypasses the tree. Uploads depend on NAT:

- the hub does not NAT: shaped leaving the WAN interface, by source address, as emulated;
- the hub NATs (or the topology does not say): on the WAN side every upload carries the hub's
  public address, so uploads are matched before source NAT instead: the LAN interface's ingress
  redirects everything not addressed to a site to an IFB device, where the uploads tree
  classifies by the sites' own source addresses (what a site sends to the hub itself is
  counted there too).

A failed script leaves the shaping in force alone: it checks that the devices exist, then
rehearses every command on a throw-away veth pair (a `tc` function maps each device to its
stand-in), and only when tc accepted them all runs them on the real devices. Everything runs
from shell functions, read whole before they run, so a truncated copy changes nothing.
"""

from __future__ import annotations

import shlex

from sim.shaping.deployment import Deployment
from sim.shaping.notes import mbit, notes
from sim.shaping.plan import ClassTree, ShapingPlan
from sim.shaping.planfile import plan_from_dict
from sim.shaping.tc import (
    CATCH_ALL_MINOR,
    Argv,
    DeviceProgram,
    catch_all,
    class_minors,
    compile_device,
    upload_redirect,
)

DEFAULT_LAN_DEV = "eth1"  # the emulated hub's LAN side (sim/backends/mininet/topo.py)
DEFAULT_WAN_DEV = "eth0"  # ... and its WAN side
IFB_DEV = "ifb-netlab"  # carries uploads from the LAN's ingress when the hub NATs


def to_tc_script(plan: ShapingPlan, where: Deployment) -> str:
    """The script putting plan in force on the hub `where` describes (see the module doc)."""
    plan = plan_from_dict(plan.to_dict())  # only validated identifiers and numbers
    lan = where.lan_interface or DEFAULT_LAN_DEV
    wan = where.wan_interface or DEFAULT_WAN_DEV
    if lan == wan:
        raise ValueError("lan_interface and wan_interface must differ (one HTB root per device)")
    up_dev = IFB_DEV if where.nat else wan
    down = compile_device(plan.down, lan, "dst", where.networks, f"{plan.policy} down")
    up = compile_device(plan.up, up_dev, "src", where.networks, f"{plan.policy} up")
    out = [
        "#!/bin/sh",
        f"# netlab shaping plan {plan.policy!r} as Linux tc: HTB classes and u32 filters,",
        "# the commands netlab's emulator runs. Rates are L2 bits/s; burst/cburst hold 50 ms of",
        "# rate/ceil (at least 15000 bytes); a quantum not given is the kernel's (rate / r2q).",
        f"# Downloads: shaped leaving {lan}, by destination; traffic between sites bypasses.",
        "# IP traffic no site filter matches goes to 1:fffe under the root (prio 7).",
        _upload_note(where.nat, lan, wan),
    ]
    out += notes(plan, where, [*down.warnings, *up.warnings], f"interfaces {lan}/{wan}.")
    out += ["set -e", "", *_standin_tc(lan), "", "apply() {"]
    out += _device_lines(plan.down, down, "downloads", where)
    out += _device_lines(plan.up, up, "uploads", where)
    out.append(f"# {lan}'s ingress is netlab's: a redirect of an earlier export goes")
    out.append(_tc(["qdisc", "del", "dev", lan, "ingress"]) + " 2>/dev/null || true")
    if where.nat:
        out.append(f"# uploads: redirected from {lan}'s ingress to {IFB_DEV}, before source NAT")
        out += [_tc(argv) for argv in upload_redirect(lan, IFB_DEV, where.networks)]
    out += ["}", "", *_rehearse(lan, None if where.nat else wan)]
    if where.nat:
        out += [
            f"# uploads are shaped on {IFB_DEV}",
            _sh(["ip", "link", "add", IFB_DEV, "type", "ifb"]) + " 2>/dev/null || true",
            _sh(["ip", "link", "set", "dev", IFB_DEV, "txqueuelen", "1000", "up"]),
        ]
    return "\n".join([*out, "apply"]) + "\n"


def _standin_tc(lan: str) -> list[str]:
    """A `tc` function: while $standin_lan is set, the device after every `dev` is replaced by
    its stand-in ($standin_lan for the LAN side, $standin_up for the other)."""
    return [
        "# While rehearsing, every command runs on stand-ins for the devices it names.",
        'standin_lan="" standin_up=""',
        "tc() {",
        '    if [ -n "$standin_lan" ]; then',
        "        n=$# previous=",
        '        while [ "$n" -gt 0 ]; do',
        "            arg=$1",
        "            shift",
        "            mapped=$arg",
        '            if [ "$previous" = dev ]; then',
        f'                case "$arg" in {shlex.quote(lan)}) mapped=$standin_lan ;;'
        " *) mapped=$standin_up ;; esac",
        "            fi",
        '            set -- "$@" "$mapped"',
        "            previous=$arg n=$((n - 1))",
        "        done",
        "    fi",
        '    command tc "$@"',
        "}",
    ]


def _rehearse(lan: str, wan: str | None) -> list[str]:
    """Check the devices and run every command on a throw-away veth pair first.

    tc refusing a command in the rehearsal ends the script before the shaping in force is
    touched; functions are read whole before they run, so a truncated copy changes nothing.
    """
    devices = " ".join(shlex.quote(d) for d in (lan, wan) if d is not None)
    return [
        "# The devices must exist; then a rehearsal on a veth pair: a command tc refuses ends",
        "# the script here, the shaping in force untouched. Only then the same commands for real.",
        f'for dev in {devices}; do ip link show dev "$dev" >/dev/null; done',
        "standin=tctry$$",
        'trap \'status=$?; ip link del "${standin}l" 2>/dev/null || true; [ "$status" = 0 ] ||'
        ' echo "netlab: tc failed in the rehearsal; the shaping in force is unchanged" >&2\' EXIT',
        'ip link add "${standin}l" type veth peer name "${standin}u"',
        'standin_lan="${standin}l"',
        'standin_up="${standin}u"',
        "apply",
        'standin_lan="" standin_up=""',
        'ip link del "${standin}l"',
        "trap - EXIT",
        "",
    ]


def _upload_note(nat: bool, lan: str, wan: str) -> str:
    if nat:
        return (
            f"# Uploads: the hub NATs on {wan}, so they are matched before source NAT: {lan}'s"
            f" ingress feeds them to {IFB_DEV}, shaped there by source address."
        )
    return f"# Uploads: shaped leaving {wan} (no NAT on the hub), by source address."


def _sh(argv: Argv) -> str:
    return " ".join(shlex.quote(token) for token in argv)


def _tc(argv: Argv) -> str:
    return _sh(["tc", *argv])


def _device_lines(
    tree: ClassTree, program: DeviceProgram, label: str, where: Deployment
) -> list[str]:
    """The program's commands, each class announced by a `# class ID: ...` comment."""
    by_classid = {f"1:{m:x}": tree.by_id(cid) for cid, m in class_minors(tree).items()}
    by_classid[f"1:{CATCH_ALL_MINOR:x}"] = catch_all(tree.root)
    lines = [
        f"# ---- {label} on {program.dev}: {len(tree.classes)} classes, "
        f"{len(tree.leaves)} sites ----",
        _tc(program.reset) + " 2>/dev/null || true",
    ]
    for argv in program.build:
        if argv[:2] == ["class", "add"]:
            classid = argv[argv.index("classid") + 1]
            c = by_classid[classid]
            fallback = classid == f"1:{CATCH_ALL_MINOR:x}"
            what = "unclassified traffic" if fallback else f"class {c.id}"
            if c.site is not None:
                what += f" (site {c.site}, {' '.join(where.networks[c.site])})"
            lines.append(f"# {what}: rate {mbit(c.rate)}, ceil {mbit(c.ceil)}, prio {c.prio}")
        lines.append(_tc(argv))
    return [*lines, ""]
