"""Machine types and the compat properties they apply (extract/machines.py), device
properties (properties.py), the .needed and test functions they gate (gates.py) and the
machine verdict of a finding (placement/machines.py), on a small tree
(tests/machines_tree.py) whose every case is written out next to what it must give."""
from __future__ import annotations

import pytest
from machines_tree import make_tree

from vmsd_lint.extract.gates import gate
from vmsd_lint.extract.machines import machine_facts, read_file
from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.placement.machines import Question, common_machines, machine_verdict, property_value, release
from vmsd_lint.sources.tree import directory_tree


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return directory_tree(str(make_tree(tmp_path_factory.mktemp("machines") / "tree")))


DEVICE = "hw/misc/toy-dev.c"


@pytest.fixture(scope="module")
def facts(tree):
    return machine_facts(tree, placing_extractor().run(tree))


@pytest.fixture(scope="module")
def properties(facts):
    return facts.properties


@pytest.fixture(scope="module")
def reads(facts):
    return facts.reads


def machine(facts, name, hw_dir="toy"):
    return next(m for m in facts.machines if m.name == name and m.hw_dir == hw_dir)


def test_versioned_machine_types_are_named_by_the_trees_macros(facts):
    # DEFINE_TOY_MACHINE(8, 1) builds "toy-8.1-machine" with stringify and ##; 7.2's style
    # writes "old-6.0" TYPE_MACHINE_SUFFIX; the abstract base and the unversioned board
    # ("plainboard") have no cross-version promise
    assert [(m.name, m.version, m.hw_dir) for m in facts.machines] == [
        ("toy-8.1", (8, 1), "other"),  # another target's, with a TypeInfo of its own
        ("old-6.0", (6, 0), "toy"), ("toy-7.2", (7, 2), "toy"), ("toy-8.1", (8, 1), "toy"), ("toy-9.0", (9, 0), "toy")]
    assert machine(facts, "toy-8.1").class_init == "toy_machine_8_1_class_init"
    assert (machine(facts, "old-6.0").file, machine(facts, "old-6.0").line) == ("hw/toy/toy-board.c", 93)


def test_the_options_chain_adds_arrays_newest_first(facts):
    toy72 = machine(facts, "toy-7.2")
    assert toy72.chain == ("toy_compat_set", "toy_machine_7_2_options", "toy_machine_8_1_options",
                           "toy_machine_9_0_options")
    # the local `static GlobalProperty compat[]` is named after its function
    assert toy72.arrays == ("toy_compat", "hw_compat_8_1", "hw_compat_7_2", "toy_machine_7_2_options:compat",
                            "hw_compat_7_1")
    # `if (latest)` is decided once the macro is expanded: only the latest gets latest_compat
    assert machine(facts, "toy-9.0").arrays == ("toy_compat", "latest_compat")
    assert machine(facts, "toy-8.1").arrays == ("toy_compat", "hw_compat_8_1")


def test_compat_entries_are_evaluated_with_their_place(facts):
    entries = [(e.driver, e.property, e.value, e.compat, e.file, e.line, e.condition)
               for e in machine(facts, "toy-7.2").compat]
    assert entries == [
        ("toy-dev", "x-always", "on", "toy_compat", "hw/toy/toy-board.c", 27, None),
        ("toy-dev", "x-migrate", "off", "hw_compat_8_1", "hw/core/machine.c", 4, None),
        ("toy-base", "x-flag", "on", "hw_compat_8_1", "hw/core/machine.c", 5, None),
        ("toy-dev", "x-bits", "false", "hw_compat_7_2", "hw/core/machine.c", 10, None),  # designated
        ("toy-dev", "model-id", "Toy 7.2", "hw_compat_7_2", "hw/core/machine.c", 11, None),  # from a macro
        ("toy-base", "model-id", "Toy 7.2", "hw_compat_7_2", "hw/core/machine.c", 11, None),
        ("toy-dev", "x-local", "off", "toy_machine_7_2_options:compat", "hw/toy/toy-board.c", 61, None),
        # added under a run-time condition: kept, with it
        ("toy-dev", "x-migrate", "on", "hw_compat_7_1", "hw/core/machine.c", 17, "kvm_enabled()"),
    ]


def test_what_cannot_be_evaluated_is_a_diagnostic_with_its_line(facts):
    assert sorted((d.file, d.line, d.message) for d in facts.diagnostics if d.file != DEVICE) == [
        ("hw/core/machine.c", 12, 'GlobalProperty hw_compat_7_2: {TYPE_NOWHERE, "x-unknown", "off"}: '
                                  'driver, property or value could not be evaluated'),
        ("hw/toy/toy-board.c", 70, "toy_machine_7_2_options: GlobalProperty array missing_compat not found"),
        ("hw/toy/toy-board.c", 71, "toy_machine_7_2_options: compat_props_add(mc->compat_props, mc->extra, 1): "
                                   "not an array name"),
    ]


def test_device_properties_from_the_trees_define_prop_macros(facts, properties):
    own = {p.name: (p.struct, p.field, p.bit, p.info, p.value) for p in properties.own["toy-dev"]}
    assert own == {
        "x-migrate": ("ToyState", "migrate", None, "qdev_prop_bool", 1),
        "x-bits": ("ToyState", "bits", 3, "qdev_prop_bit", 1),  # the bit number, a #define of the file
        "x-local": ("ToyState", "local", None, "qdev_prop_bool", 1),  # through a wrapper macro
        "count": ("ToyState", "count", None, "qdev_prop_uint32", 4),
        "x-off": ("ToyState", "off", None, "qdev_prop_bool", 0),
        "custom": (None, None, None, "toy_prop_custom", None),  # accessors of its own, no field
    }
    # installed by a helper the class_init calls; a parent's properties are inherited
    assert [(owner, p.name) for owner, p in properties.of("toy-dev")][-1] == ("toy-base", "x-flag")
    assert properties.lineage("toy-dev") == ["toy-dev", "toy-base", "device"]
    assert facts.children == {"toy-proxy": ("toy-dev",)}  # virtio_instance_init_common(..., TYPE_TOY_DEV)


def test_properties_given_as_class_data_are_a_diagnostic(facts):
    assert [(d.file, d.line, d.message) for d in facts.diagnostics if d.file == DEVICE] == [
        ("hw/misc/toy-dev.c", 221, "toy_data_class_init: device_class_set_props(..., info->props): properties "
                                   "from class data or an expression are not read")]


@pytest.mark.parametrize("function, expected", [
    ("toy_migrate_needed", [("ToyState", "migrate", None, True, None)]),  # return s->migrate;
    ("toy_bits_needed", [("ToyState", "bits", 3, True, None)]),  # return s->bits & (1 << TOY_BIT_FLAG);
    # if (!s->local) return false; return s->runtime && s->count > 2;
    ("toy_runtime_needed", [("ToyState", "local", None, True, "s->runtime && s->count > 2"),
                            ("ToyState", "runtime", None, True, "s->local && s->count > 2")]),
    ("toy_either_needed", []),  # return s->migrate || s->runtime;: no one term decides
    ("toy_cast_needed", [(None, "off", None, False, None)]),  # return TOY(opaque)->off == 0;
    ("toy_count_test", [("ToyState", "off", None, False, None)]),  # a field's test: return !s->off;
    ("toy_count_is_one", []),  # return s->count == 1;: a number, not a truth value
])
def test_what_a_needed_or_test_function_reads(reads, function, expected):
    assert [(r.struct, r.field, r.bit, r.sends_when, r.condition) for r in reads[f"{DEVICE}:{function}"]] == expected


@pytest.mark.parametrize("function, driver, prop, disables", [
    ("toy_migrate_needed", "toy-dev", "x-migrate", "off"),
    ("toy_bits_needed", "toy-dev", "x-bits", "off"),
    ("toy_cast_needed", "toy-dev", "x-off", "on"),
    ("toy_flag_needed", "toy-base", "x-flag", "off"),
])
def test_the_property_behind_a_read(reads, properties, function, driver, prop, disables):
    found = gate(reads[f"{DEVICE}:{function}"][0], properties, ("toy-dev",))
    assert (found.driver, found.property, found.disables) == (driver, prop, disables)


def test_what_gates_a_function(facts):
    # (driver, property, value turning it off, run-time condition): the runtime term is no property
    assert [(g.driver, g.property, g.disables, g.condition) for g in facts.gates(f"{DEVICE}:toy_runtime_needed")] \
        == [("toy-dev", "x-local", "off", "s->runtime && s->count > 2")]
    assert facts.gates(f"{DEVICE}:toy_migrate_needed", ("toy-proxy",))[0].driver == "toy-dev"
    assert facts.gates(f"{DEVICE}:toy_either_needed") == ()


def test_an_enum_property_read_as_a_truth_value_is_no_gate(reads, properties):
    # return s->mode; with DEFINE_PROP_ON_OFF_AUTO("mode", ...): 0 is ON_OFF_AUTO_AUTO, "off" is 2
    (mode,) = properties.own["toy-auto"]
    assert (mode.info, mode.default, mode.value) == ("qdev_prop_on_off_auto", "(OnOffAuto)ON_OFF_AUTO_AUTO", None)
    (read,) = reads[f"{DEVICE}:toy_auto_needed"]
    assert read.field == "mode" and gate(read, properties) is None


def test_a_read_of_no_property_is_no_gate(reads, properties):
    # toy_runtime_needed's other term, s->runtime, is state no property sets
    runtime = reads[f"{DEVICE}:toy_runtime_needed"][1]
    assert runtime.field == "runtime" and gate(runtime, properties) is None
    # without the owning types, any type's properties are searched
    assert gate(reads[f"{DEVICE}:toy_migrate_needed"][0], properties).driver == "toy-dev"


def verdict(facts, function, old, types=("toy-dev",), hw_dirs=("toy",)):
    return machine_verdict(Question("toy", types, function, DEVICE, old), facts, hw_dirs)


def test_a_subsection_gated_by_a_compat_property_breaks_no_older_machine_type(facts):
    found = verdict(facts, "toy_migrate_needed", "8.1")
    assert found.to_json() == {"breaks": [], "gated": {
        "driver": "toy-dev", "property": "x-migrate", "value": "off", "compat": "hw_compat_8_1",
        "file": "hw/core/machine.c", "line": 4, "up_to": "8.1"}, "board_only": False}
    # from 9.0 on, the property is on: toy-9.0 breaks
    assert verdict(facts, "toy_migrate_needed", "9.0").breaks == ("toy-9.0",)


def test_a_gate_covering_fewer_machine_types_names_the_ones_it_leaves(facts):
    found = verdict(facts, "toy_bits_needed", "8.1")
    assert found.breaks == ("toy-8.1",)
    assert (found.gated.compat, found.gated.value, found.gated.up_to) == ("hw_compat_7_2", "false", "7.2")


def test_a_run_time_condition_is_said(facts):
    found = verdict(facts, "toy_runtime_needed", "7.2")
    assert found.breaks == () and found.gated.compat == "toy_machine_7_2_options:compat"
    assert found.condition == "s->runtime && s->count > 2"


def test_machine_types_of_one_name_in_two_directories_are_told_apart(facts):
    # hw/other's toy-8.1 has no hw_compat_8_1: it sends toy/migrate, hw/toy's does not
    assert verdict(facts, "toy_migrate_needed", "8.1", hw_dirs=None).breaks == ("toy-8.1",)
    assert verdict(facts, "toy_migrate_needed", "8.1", hw_dirs=("other",)).breaks == ("toy-8.1",)
    assert verdict(facts, "toy_migrate_needed", "8.1").breaks == ()
    # and a name both break is listed once
    assert verdict(facts, "toy_either_needed", "8.1", hw_dirs=None).breaks == ("toy-8.1", "old-6.0", "toy-7.2")


def test_no_gate_breaks_every_machine_type_of_both_releases(facts):
    assert verdict(facts, "toy_either_needed", "8.1").to_json() == {
        "breaks": ["old-6.0", "toy-7.2", "toy-8.1"], "gated": None, "board_only": False}
    assert verdict(facts, None, "7.2").breaks == ("old-6.0", "toy-7.2")


def test_a_property_of_a_parent_type_and_of_a_device_inside_a_proxy(facts):
    # hw_compat_8_1 sets x-flag on toy-base, toy-dev's parent, for the older types
    value, entry, holder = property_value(facts, machine(facts, "toy-8.1"), "toy-dev", "x-flag")
    assert (value, entry.driver, holder) == (True, "toy-base", "toy-dev")
    # the proxy creates a toy-dev: the compat entry for toy-dev reaches its state
    found = verdict(facts, "toy_migrate_needed", "8.1", types=("toy-proxy",))
    assert found.breaks == () and found.gated.compat == "hw_compat_8_1"
    value, entry, holder = property_value(facts, machine(facts, "toy-8.1"), "toy-proxy", "x-migrate")
    assert (value, entry.compat, holder) == (False, "hw_compat_8_1", "toy-dev")
    assert property_value(facts, machine(facts, "toy-9.0"), "toy-proxy", "x-migrate")[:2] == (True, None)


def test_a_default_sparing_only_newer_machine_types_is_no_gate(facts):
    # toy_flag_needed sends while x-flag is on: off by default (toy-9.0), turned on by
    # hw_compat_8_1 for the older types, which all send it
    found = verdict(facts, "toy_flag_needed", "9.0")
    assert found.breaks == ("old-6.0", "toy-7.2", "toy-8.1") and found.gated is None


def test_an_entry_under_a_condition_spares_nothing(facts):
    # toy-7.2 turns x-migrate back on only `if (kvm_enabled())`: hw_compat_8_1's off stands
    assert property_value(facts, machine(facts, "toy-7.2"), "toy-dev", "x-migrate")[0] is False


def test_releases_and_common_machine_types(facts):
    assert release("7.2") == (7, 2) and release("v10.0.2") == (10, 0, 2) and release("v7.2.0") == (7, 2)
    assert [m.name for m in common_machines(facts, "7.2")] == ["old-6.0", "toy-7.2"]
    assert common_machines(facts, "9.0", hw_dirs=["i386"]) == []


def test_an_expansion_is_read_on_the_line_of_its_macro_call():
    facts = read_file(b"static void f(M *m) { g(m); compat_props_add(m->p, a, 1); }", first_line=40)
    assert [(c.callee, c.line) for c in facts.functions["f"].calls] == [("g", 40), ("compat_props_add", 40)]
