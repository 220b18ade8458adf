"""The CPU options a machine type gives an Arm CPU, read from the revision's code.

The register list an Arm CPU migrates depends on options its board sets before realize:
`virt` turns EL3 off unless `secure=on` (`if (!vms->secure) object_property_set_bool(
cpuobj, "has_el3", false, NULL)`), EL2 unless `virtualization=on`, and the PMU for old
machine versions (`vmc->no_pmu`).  So the options are read, never tabled:

- the CPU's properties and defaults from target/arm: `DEFINE_PROP_BOOL("has_el3",
  ARMCPU, has_el3, true)`, and `object_property_add_bool(obj, "pmu", ..., arm_set_pmu)`
  whose setter writes `cpu->has_pmu` (its default: what the adding function assigns);
- the machine's state: its file's instance_init (`vms->secure = false;`) and the class
  flags its options functions set (`vmc->no_pmu = true;` in virt_machine_2_6_options),
  over the machine type's own chain (extract/machines.py), all others false;
- the board's settings: every `object_property_set_bool(<cpu>, "P", V, ...)` in the
  machine's file, applied when the `if` conditions around it hold for those values.

What comes out is the `cpu->FIELD` values cpregs.estimate() decides conditions with,
plus the accelerator: TCG (under KVM the list comes from the host kernel).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from tree_sitter import Node, Query, QueryCursor

from ..sources.tree import SourceTree
from .cpregs import all_hold, arm_sources, conditions_around, expression_node
from .machines import MachineType
from .parse import _language, _text, declarator_name, parse_tree

# the accelerator the lists are estimated for: a modelling choice, not a fact of QEMU
TCG = {"kvm_enabled()": False, "hvf_enabled()": False, "tcg_enabled()": True}
CPU_WORDS = (b"DEFINE_PROP_BOOL", b"object_property_add_bool")


@dataclass(frozen=True, slots=True)
class CpuProperty:
    name: str  # "has_el3"
    field: str  # "has_el3": the ARMCPU member it sets
    default: bool | None
    where: str  # file:line of its definition


@dataclass(frozen=True, slots=True)
class CpuOptions:
    """The `cpu->FIELD` values (and the accelerator) a machine type gives its CPUs."""
    machine: str | None
    values: dict[str, bool | None]
    settings: tuple[str, ...]  # what the board changed: "has_el3=false (hw/arm/virt.c:2259)"
    problems: tuple[str, ...]  # settings under a condition that could not be decided

    def describe(self) -> str:
        changed = ", ".join(self.settings) or "none"
        return f"TCG, {self.machine or 'no machine type'}'s defaults (CPU properties it sets: {changed})"


@cache
def _query() -> Query:
    text = resources.files("vmsd_lint.extract").joinpath("queries", "cpu_options.scm").read_text()
    return Query(_language(), text)


def _string(node: Node, data: bytes) -> str:
    return _text(node, data).strip('"')


def _function_of(node: Node, data: bytes) -> str | None:
    while node is not None and node.type != "function_definition":
        node = node.parent
    return None if node is None else declarator_name(node.child_by_field_name("declarator"), data)


def _matches(data: bytes) -> list[dict[str, list[Node]]]:
    return [caps for _, caps in QueryCursor(_query()).matches(parse_tree(data).root_node)]


def cpu_properties(tree: SourceTree) -> dict[str, CpuProperty]:
    """The Arm CPU's boolean properties, by name, with the field each sets."""
    found: dict[str, CpuProperty] = {}
    for path in arm_sources(tree):
        data = tree.read_path(path) or b""
        if any(word in data for word in CPU_WORDS):
            found.update(_file_properties(path, data))
    return found


def _file_properties(path: str, data: bytes) -> dict[str, CpuProperty]:
    matches = _matches(data)
    assigns = [caps for caps in matches if "assign" in caps]
    found: dict[str, CpuProperty] = {}
    for caps in matches:
        node = (caps.get("prop") or caps.get("added") or [None])[0]
        where = f"{path}:{node.start_point[0] + 1}" if node is not None else ""
        if "prop" in caps and _text(caps["type"][0], data) == "ARMCPU":
            default = {"true": True, "false": False}.get(_text(caps["default"][0], data))
            found[_string(caps["name"][0], data)] = CpuProperty(
                _string(caps["name"][0], data), _text(caps["field"][0], data), default, where)
        elif "added" in caps:
            prop = _added_property(caps, data, assigns, where)
            if prop is not None:
                found[prop.name] = prop
    return found


def _added_property(caps, data: bytes, assigns, where: str) -> CpuProperty | None:
    """object_property_add_bool(obj, NAME, get, SET): the field SET writes its value to,
    and the default the adding function gives that field first (`cpu->has_pmu = true;`)."""
    setter = _text(caps["setter"][0], data)
    adder = _function_of(caps["added"][0], data)
    field = next((_text(a["member"][0], data) for a in assigns if _function_of(a["assign"][0], data) == setter
                  and _text(a["value"][0], data) == "value"), None)
    if field is None:
        return None
    defaults = [_text(a["value"][0], data) for a in assigns if _function_of(a["assign"][0], data) == adder
                and _text(a["member"][0], data) == field]
    default = {"true": True, "false": False}.get(defaults[0]) if defaults else None
    return CpuProperty(_string(caps["name"][0], data), field, default, where)


def machine_cpu_options(tree: SourceTree, machine: MachineType | None) -> CpuOptions:
    """The CPU options MACHINE gives (without one: the CPU's own defaults), under TCG."""
    props = cpu_properties(tree)
    values: dict[str, bool | None] = {f"cpu->{p.field}": p.default for p in props.values()}
    values.update(TCG)
    if machine is None:
        return CpuOptions(None, values, (), ())
    data = tree.read_path(machine.file) or b""
    matches = _matches(data)
    state = _machine_state(matches, data, machine)
    settings, problems = _compat_settings(machine, props, values), []
    for caps in matches:
        if "setting" not in caps or "cpu" not in _text(caps["object"][0], data):
            continue
        prop = props.get(_string(caps["name"][0], data))
        value = {"true": True, "false": False}.get(_text(caps["value"][0], data))
        if prop is None or value is None:
            continue  # a property of another kind (kvm-steal-time is not ARMCPU's bool)
        where = f"{machine.file}:{caps['setting'][0].start_point[0] + 1}"
        verdict = all_hold(conditions_around(caps["setting"][0], data)[0],
                           lambda text: _evaluate(*expression_node(text), state))
        if verdict is None:
            values[f"cpu->{prop.field}"] = None
            problems.append(f"{prop.name}={str(value).lower()} at {where} under a condition not decided")
        elif verdict and values.get(f"cpu->{prop.field}") != value:
            values[f"cpu->{prop.field}"] = value
            settings.append(f"{prop.name}={str(value).lower()} ({where})")
    return CpuOptions(machine.name, values, tuple(settings), tuple(problems))


def _compat_settings(machine: MachineType, props: dict[str, CpuProperty], values: dict[str, bool | None]) -> list[str]:
    """Apply MACHINE's compat properties for Arm CPUs (`{ TYPE_ARM_CPU, "backcompat-cntfrq",
    "true" }` in hw_compat_9_2): the CPU types are named "<model>-arm-cpu" and "arm-cpu"."""
    settings = []
    for entry in machine.compat:
        prop = props.get(entry.property)
        value = {"true": True, "on": True, "false": False, "off": False}.get(entry.value)
        if entry.driver.endswith("arm-cpu") and prop is not None and value is not None \
                and entry.condition is None and values.get(f"cpu->{prop.field}") != value:
            values[f"cpu->{prop.field}"] = value
            settings.append(f"{prop.name}={str(value).lower()} ({entry.compat}, {entry.file}:{entry.line})")
    return settings


def _machine_state(matches, data: bytes, machine: MachineType) -> dict[str, bool | None]:
    """`vmc->X` (class flags: false unless MACHINE's options functions set them) and
    `vms->X` (what the file's instance_init assigns), as the conditions name them."""
    state: dict[str, bool | None] = {}
    assigns = [(caps, _function_of(caps["assign"][0], data)) for caps in matches if "assign" in caps]
    # the machine's own options function sets its flags after calling the next newer one's:
    # the first function of the chain that sets a flag decides it
    in_chain = sorted(((machine.chain.index(fn), caps) for caps, fn in assigns if fn in machine.chain),
                      key=lambda pair: pair[0])
    for _, caps in in_chain:
        if _text(caps["base"][0], data) == "vmc":
            state.setdefault(f"vmc->{_text(caps['member'][0], data)}",
                             _evaluate(caps["value"][0], data, {}))
    inits = {_text(caps["function"][0], data) for caps in matches if "instance_init" in caps}
    for caps, fn in assigns:
        if fn in inits and _text(caps["base"][0], data) == "vms":
            state[f"vms->{_text(caps['member'][0], data)}"] = _evaluate(caps["value"][0], data, state)
    return state


def _evaluate(node: Node, data: bytes, state: dict[str, bool | None]) -> bool | None:
    """A condition of the machine's state: !, &&, ||, true/false, `vmc->X` (false when no
    options function sets it), `vms->X`, and object_property_find() (the property exists:
    the board only sets what it finds; nothing else is decided)."""
    kind, text = node.type, _text(node, data).replace(" ", "")
    if kind in ("true", "false"):
        return kind == "true"
    if kind == "parenthesized_expression":
        return _evaluate(node.named_children[0], data, state)
    if kind == "unary_expression" and _text(node.child_by_field_name("operator"), data) == "!":
        value = _evaluate(node.child_by_field_name("argument"), data, state)
        return None if value is None else not value
    if kind == "binary_expression":
        op = _text(node.child_by_field_name("operator"), data)
        left = _evaluate(node.child_by_field_name("left"), data, state)
        right = _evaluate(node.child_by_field_name("right"), data, state)
        if op == "&&":
            return False if False in (left, right) else None if None in (left, right) else True
        if op == "||":
            return True if True in (left, right) else None if None in (left, right) else False
        return None
    if kind == "call_expression" and text.startswith("object_property_find("):
        return True
    if text.startswith("vmc->"):
        return state.get(text, False)
    return state.get(text)
