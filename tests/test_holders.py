"""Which device types a versioned machine type can hold (extract/holders.py), and each
finding's machine verdict in a check (app/verdicts.py), on a small tree pair
(tests/holders_tree.py): every case is written out next to what it must give."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from holders_tree import make_tree

from vmsd_lint.cli.main import main
from vmsd_lint.extract import codec
from vmsd_lint.extract.cache import Cache
from vmsd_lint.extract.holders import function_spans
from vmsd_lint.extract.machines import machine_facts, stored_machine_facts
from vmsd_lint.placement.extraction import placing_extractor
from vmsd_lint.sources.tree import directory_tree


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("holders")
    return make_tree(base / "old", old=True), make_tree(base / "new")


@pytest.fixture(scope="module")
def facts(trees):
    tree = directory_tree(str(trees[1]))
    return machine_facts(tree, placing_extractor().run(tree))


def test_functions_are_found_by_their_column_zero_braces():
    text = (b"static void a(int x,\n               int y)\n{\n    b();\n}\n\n"
            b"int c(void (*f)(void))\n{\n}\n"
            b"static const TypeInfo t = {\n    .name = \"x\",\n};\n"
            b"#define M(x) \\\n{\n}\n")
    found = [(f.name, f.static) for f in function_spans("f.c", text)]
    assert found == [("a", True), ("c", False)]


def test_a_machine_type_holds_what_its_code_creates(facts):
    held = facts.holders.held("toy/vboard-1.0")
    # through a header's static inline helper; sysbus_create_simple(); what a device it
    # creates makes in its realize (the bridge's bus); a user-creatable device on that bus
    # and what it creates in turn
    assert {"onboard-dev", "toy-bridge", "toy-bus", "plug-dev", "child-dev"} <= held
    # vboard-1.0 and vboard-2.0 share one set
    assert facts.holders.by_machine == {"toy/vboard-1.0": 0, "toy/vboard-2.0": 0}


def test_what_only_an_unversioned_board_creates_is_held_by_no_machine_type(facts):
    held = facts.holders.held("toy/vboard-2.0")
    # uboard's SoC (not user-creatable) and the UART its instance_init makes
    assert not {"toy-soc", "soc-uart"} & held
    # a user-creatable device whose bus no machine type provides
    assert facts.holders.user_creatable["lonely-plug"] == "lonely-bus"
    assert not facts.holders.holds("toy/vboard-2.0", "lonely-plug")


def test_user_creatable_follows_the_nearest_class_init_saying_so(facts):
    creatable = facts.holders.user_creatable
    # sysbus_device_class_init sets user_creatable = false for every sysbus device
    assert not {"onboard-dev", "soc-uart", "toy-bridge", "toy-soc", "child-dev"} & set(creatable)
    assert creatable["plug-dev"] == "toy-bus"


def test_state_registered_by_a_board_is_known_with_the_machine_types_reaching_it(facts):
    assert facts.holders.registrations == {"hw/toy/uboard.c:uboard_init": ()}
    assert facts.holders.registers("toy/vboard-1.0", "hw/toy/uboard.c:uboard_init") is False
    assert facts.holders.hooked["plug_realize"] == ("plug-dev",)


def test_machine_facts_are_stored_as_data_and_read_back(trees, facts, tmp_path):
    assert codec.decode(codec.encode(facts)) == facts
    tree = directory_tree(str(trees[1]))
    extraction = placing_extractor().run(tree)
    with Cache(str(tmp_path)) as cache:
        first = stored_machine_facts(tree, extraction, cache)
    from vmsd_lint.extract import machines
    machines._MADE.clear()  # a new run: read from the cache
    with Cache(str(tmp_path)) as cache:
        assert stored_machine_facts(tree, extraction, cache) == first == facts


def check_json(trees, *args):
    old, new = trees
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", *args, f"{old}..{new}"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def by_path(report):
    return {f["path"]: f for f in report["findings"]}


def test_a_board_only_device_is_info_with_the_reason(trees):
    found = by_path(check_json(trees))["soc-uart/extra"]
    assert found["severity"] == "info" and found["directions"] == []
    assert found["machines"] == {"breaks": [], "gated": None, "board_only": True}
    assert found["downgrade"]["severity"] == "error" and found["downgrade"]["directions"] == ["backward", "forward"]
    assert "board-only" in found["downgrade"]["reason"]


def test_state_a_board_registers_is_board_only_too(trees):
    found = by_path(check_json(trees))["uboard-regs/mode"]
    assert found["severity"] == "info" and found["machines"]["board_only"]


def test_a_gated_subsection_is_info_naming_the_compat_array(trees):
    found = by_path(check_json(trees))["onboard-dev/extra"]
    assert found["severity"] == "info"
    assert found["machines"]["gated"] == {"driver": "onboard-dev", "property": "x-migrate-extra", "value": "off",
                                          "compat": "hw_compat_1_0", "file": "hw/core/machine.c", "line": 4,
                                          "up_to": "1.0"}
    assert found["machines"]["breaks"] == []


def test_a_break_of_a_versioned_machine_type_stays_an_error_with_a_recipe(trees):
    report = check_json(trees)
    found = by_path(report)["plug-dev/extra"]
    assert found["severity"] == "error" and found["machines"]["breaks"] == ["vboard-1.0"]
    assert '{ "plug-dev", "x-migrate-extra", "off" } to hw_compat_1_0' in found["fix"]
    assert report["summary"] == {"error": 1, "warning": 0, "info": 3, "waived": 0, "board_only": 2, "gated": 1,
                                 "breaking": 1}


def test_the_fingerprint_does_not_follow_the_verdict(trees):
    report = check_json(trees)
    from vmsd_lint.diff.findings import new_finding
    plain = new_finding("field-added", vmsd="soc-uart", path="soc-uart/extra",
                        args={"field": "x", "new_layout": "y", "after": "z"})
    assert by_path(report)["soc-uart/extra"]["fingerprint"] == plain.fingerprint


def test_the_text_shows_the_verdict_and_the_counts(trees):
    old, new = trees
    result = CliRunner().invoke(main, ["check", "--no-cache", f"{old}..{new}"])
    assert "machine types: board-only: no versioned machine type can hold soc-uart" in result.output
    assert ("machine types: safe for machine types <= 1.0: gated by onboard-dev x-migrate-extra, off in "
            "hw_compat_1_0 (hw/core/machine.c:4)") in result.output
    assert "machine types: breaks vboard-1.0" in result.output
    assert "2 board-only, 1 gated, 1 breaking versioned machine types" in result.output.splitlines()[-1]


def write_config(tmp_path, text):
    path = tmp_path / "vmsd-lint.toml"
    path.write_text(text)
    return str(path)


def test_settings_give_the_machine_and_the_board_only_severity(trees, tmp_path):
    config = write_config(tmp_path, '[settings]\nmachine = "vboard-1.0"\nboard_only = "warning"\n')
    report = check_json(trees, "--config", config)
    # vboard-1.0 cannot hold soc-uart or uboard's state: left out, with a note
    assert set(by_path(report)) == {"onboard-dev/extra", "plug-dev/extra"}
    assert any("--machine vboard-1.0: 2 finding(s)" in note for note in report["notes"])
    assert by_path(report)["plug-dev/extra"]["machines"]["breaks"] == ["vboard-1.0"]
    # without a machine, board-only findings are warnings breaking what they break on the wire
    config = write_config(tmp_path, '[settings]\nboard_only = "warning"\ncpu = "max"\n')
    report = check_json(trees, "--config", config)
    found = by_path(report)["soc-uart/extra"]
    assert (found["severity"], found["directions"]) == ("warning", ["backward", "forward"])
    assert not any("cpu" in note.lower() for note in report["notes"])  # no Arm code here: nothing to compare
    config = write_config(tmp_path, '[settings]\nboard_only = "error"\n')
    assert by_path(check_json(trees, "--config", config))["soc-uart/extra"]["severity"] == "error"


def test_the_command_line_beats_the_settings(trees, tmp_path):
    config = write_config(tmp_path, '[settings]\nmachine = "vboard-2.0"\n')  # newer than OLD: an error
    report = check_json(trees, "--config", config, "--machine", "vboard-1.0")
    assert report["summary"]["error"] == 1


@pytest.mark.parametrize("text, message", [
    ('[settings]\nboard_only = "fatal"\n', "board_only must be one of info, warning, error"),
    ('[settings]\nmachines = "x"\n', "unknown key(s) machines"),
    ('[settings]\nmachine = 3\n', "'machine' must be a non-empty string"),
    ('[other]\n', "expected only [[waiver]] tables and a [settings] table"),
])
def test_a_bad_settings_table_is_one_line_and_exit_2(trees, tmp_path, text, message):
    old, new = trees
    config = write_config(tmp_path, text)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--config", config, f"{old}..{new}"])
    assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.parametrize("machine, message", [
    ("vboard-9.0", "unknown machine type 'vboard-9.0' (versioned machine types of NEW: vboard-1.0, vboard-2.0)"),
    ("vboard-2.0", "machine type 'vboard-2.0' is newer than OLD's release 1.0"),
])
def test_an_unknown_machine_is_exit_2_naming_the_known_ones(trees, machine, message):
    old, new = trees
    result = CliRunner().invoke(main, ["check", "--no-cache", "--machine", machine, f"{old}..{new}"])
    assert result.exit_code == 2 and message in result.output, result.output


def derive_case(tmp_path, edit):
    """(derived facts or None, whole facts) of the NEW tree with EDIT(tree dir) applied."""
    from vmsd_lint.extract.machines import changed_c_files, derived_machine_facts
    base_dir, changed_dir = make_tree(tmp_path / "base"), make_tree(tmp_path / "changed")
    edit(changed_dir)
    base, changed = directory_tree(str(base_dir)), directory_tree(str(changed_dir))
    base_x, changed_x = placing_extractor().run(base), placing_extractor().run(changed)
    paths = changed_c_files(base, changed)
    derived = derived_machine_facts(changed, changed_x, base, base_x, machine_facts(base, base_x), paths)
    return derived, machine_facts(changed, changed_x)


def test_a_device_file_change_derives_the_facts_of_the_whole_pass(tmp_path):
    def edit(tree):  # a property and a subsection gated by it, as a patch would add them
        path = tree / "hw/misc/toy-devices.c"
        text = path.read_text()
        text = text.replace("    bool migrate_extra;\n", "    bool migrate_extra;\n    bool migrate_more;\n")
        text = text.replace('''static const VMStateDescription vmstate_onboard = {''', '''static bool onboard_more_needed(void *opaque)
{
    ToyDevState *s = opaque;

    return s->migrate_more;
}

static const VMStateDescription vmstate_onboard_more = {
    .name = "onboard-dev/more",
    .needed = onboard_more_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(extra, ToyDevState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_onboard = {''')
        text = text.replace("        &vmstate_onboard_extra, /* NEW */\n",
                            "        &vmstate_onboard_extra, /* NEW */\n        &vmstate_onboard_more,\n")
        text = text.replace('DEFINE_PROP_BOOL("x-migrate-extra", ToyDevState, migrate_extra, true),',
                            'DEFINE_PROP_BOOL("x-migrate-extra", ToyDevState, migrate_extra, true),\n'
                            '    DEFINE_PROP_BOOL("x-migrate-more", ToyDevState, migrate_more, false),')
        path.write_text(text)
    derived, whole = derive_case(tmp_path, edit)
    assert derived is not None
    assert derived.properties == whole.properties and derived.reads == whole.reads
    assert derived.holders == whole.holders and derived.machines == whole.machines
    assert sorted(derived.diagnostics) == sorted(whole.diagnostics)
    assert "hw/misc/toy-devices.c:onboard_more_needed" in derived.reads


def test_a_change_to_code_a_walk_reaches_takes_the_whole_pass(tmp_path):
    def edit(tree):  # the bridge's realize now makes a lonely bus too: lonely-plug is held
        path = tree / "hw/misc/toy-devices.c"
        path.write_text(path.read_text().replace('qbus_new(TYPE_TOY_BUS, dev, "toy.0");',
                                                 'qbus_new(TYPE_TOY_BUS, dev, "toy.0");\n'
                                                 '    qbus_new(TYPE_LONELY_BUS, dev, "lonely.0");'))
    derived, whole = derive_case(tmp_path, edit)
    assert derived is None and whole.holders.holds("toy/vboard-1.0", "lonely-plug")
