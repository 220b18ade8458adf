"""The per-target build model (vmsd_lint/extract/build): minikconf semantics and the meson
evaluator on small trees, and what real QEMU releases compile for x86_64 and aarch64."""
from __future__ import annotations

from pathlib import Path

import pytest

from vmsd_lint.errors import InputError
from vmsd_lint.extract.build import UnknownTarget, build_model, known_targets
from vmsd_lint.extract.build.kconfig import evaluate_kconfig
from vmsd_lint.sources.tree import directory_tree, git_revision_tree

KCONFIG = """\
config MINI
    bool
    select UART
    imply NET
    imply GPU

config UART
    bool

config PCI
    bool

config NET
    bool
    depends on PCI

config GPU
    bool

config LED
    bool
    default y if UART && !GPU

config SOUND
    bool
    depends on PCI || UART
"""

MESON = """\
project('mini', 'c')
ss = import('sourceset')
keyval = import('keyval')
config_host = keyval.load(meson.current_build_dir() / 'config-host.mak')
target_dirs = config_host['TARGET_DIRS'].split()
minikconf = find_program('scripts/minikconf.py')
system_ss = ss.source_set()
hw_arch = {}
modules = {}
subdir('hw')
config_target_mak = {}
foreach target : target_dirs
  config_target = keyval.load('configs/targets' / target + '.mak')
  devices = configure_file(input: ['configs/devices' / target / 'default.mak', 'Kconfig'],
                           output: target + '-config-devices.mak',
                           command: [minikconf, '--defconfig', 'out.mak', 'out.d', '@INPUT@',
                                     'CONFIG_' + config_target['TARGET_ARCH'].to_upper() + '=y'])
  config_target += keyval.load(devices)
  config_target_mak += {target: config_target}
  common = system_ss.apply(config_target, strict: false)
  arch = hw_arch[config_target['TARGET_BASE_ARCH']].apply(config_target, strict: false)
  executable('qemu-system-' + target.split('-')[0], files('main.c') + common.sources() + arch.sources())
endforeach
foreach d, list : modules
  foreach m, module_ss : list
    shared_module(d + '-' + m, module_ss.apply(config_all, strict: false).sources())
  endforeach
endforeach
"""

HW_MESON = """\
system_ss.add(when: 'CONFIG_UART', if_true: files('uart.c'))
system_ss.add(when: 'CONFIG_NET', if_true: files('net.c'), if_false: files('net-stub.c'))
mini_ss = ss.source_set()
mini_ss.add(files('board.c'))
mini_ss.add(when: ['CONFIG_LED', 'CONFIG_UART'], if_true: files('led.c'))
hw_arch += {'mini': mini_ss}
if 'CONFIG_PCI' in config_host
  system_ss.add(files('never.c'))
endif
"""


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def mini_tree(tmp_path: Path, mak: str = "", extra: dict[str, str] | None = None):
    write(tmp_path, {
        "meson.build": MESON, "hw/meson.build": HW_MESON, "Kconfig": KCONFIG, "main.c": "",
        "configs/targets/mini-softmmu.mak": "TARGET_ARCH=mini\nTARGET_BASE_ARCH=mini\n",
        "configs/targets/mini-linux-user.mak": "TARGET_ARCH=mini\n",
        "configs/devices/mini-softmmu/default.mak": mak,
        **(extra or {}),
    })
    return directory_tree(str(tmp_path))


def kconfig(tmp_path: Path, mak: str) -> tuple[dict[str, bool], list]:
    write(tmp_path, {"Kconfig": KCONFIG, "configs/mini.mak": mak, "configs/common.mak": "CONFIG_PCI=y\n"})
    tree = directory_tree(str(tmp_path))
    return evaluate_kconfig(tree.read_path, ["configs/mini.mak", "Kconfig"], ["CONFIG_MINI=y"])


def test_kconfig_select_imply_depends_default(tmp_path):
    values, diagnostics = kconfig(tmp_path, "")
    assert values["UART"]  # selected by MINI
    assert not values["NET"]  # implied, but depends on PCI, which is off
    assert values["GPU"]  # implied, nothing against it
    assert not values["LED"]  # default y if UART && !GPU: GPU is on
    assert not values["SOUND"]  # depends on PCI || UART allows it, but nothing turns it on
    assert diagnostics == []


def test_kconfig_mak_assignments_and_include(tmp_path):
    values, _ = kconfig(tmp_path, "include common.mak\nCONFIG_GPU=n\n")
    assert values["PCI"] and values["NET"]  # PCI from the included file lets the imply through
    assert not values["GPU"] and values["LED"]  # an assignment beats imply; then LED's default applies


def test_kconfig_contradiction_is_a_diagnostic(tmp_path):
    _, diagnostics = kconfig(tmp_path, "CONFIG_UART=n\n")
    assert any("contradiction" in d.message and "UART" in d.message for d in diagnostics)


def test_kconfig_syntax_error_is_a_diagnostic(tmp_path):
    write(tmp_path, {"Kconfig": "config A\n    bool\n    frobnicate B\nconfig C\n    bool\n    default y\n"})
    values, diagnostics = evaluate_kconfig(directory_tree(str(tmp_path)).read_path, ["Kconfig"], [])
    assert values["C"] and [(d.file, d.line) for d in diagnostics] == [("Kconfig", 3)]


def test_mini_tree_model(tmp_path):
    build = build_model(mini_tree(tmp_path), "mini")
    assert {"CONFIG_UART", "CONFIG_GPU"} <= build.configs and "CONFIG_NET" not in build.configs
    assert build.compiles("hw/uart.c") and build.compiles("hw/board.c") and build.compiles("main.c")
    assert build.compiles("hw/net-stub.c") and not build.compiles("hw/net.c")  # if_false
    assert not build.compiles("hw/led.c")  # needs LED and UART: LED is off (GPU is on)
    assert not build.compiles("hw/never.c")


def test_mini_tree_mak_changes_the_files(tmp_path):
    build = build_model(mini_tree(tmp_path, "CONFIG_PCI=y\nCONFIG_GPU=n\n"), "mini")
    assert build.compiles("hw/net.c") and not build.compiles("hw/net-stub.c")
    assert build.compiles("hw/led.c")


def test_unknown_construct_is_a_diagnostic(tmp_path):
    tree = mini_tree(tmp_path, extra={"hw/meson.build": HW_MESON + "x = frobnicate('y')\nsystem_ss.add(x.z())\n"})
    build = build_model(tree, "mini")
    assert any(d.file == "hw/meson.build" and d.line == 10 and "frobnicate" in d.message for d in build.diagnostics)
    # the source list the unknown value went into is still evaluated
    assert build.compiles("hw/uart.c")


def test_known_and_unknown_targets(tmp_path):
    tree = mini_tree(tmp_path)
    assert known_targets(tree) == ["mini"]  # linux-user targets are not system emulators
    with pytest.raises(UnknownTarget) as info:
        build_model(tree, "x86_64")
    assert info.value.known == ["mini"] and "known: mini" in str(info.value)
    assert isinstance(info.value, InputError)  # exit status 2 on the command line


# -- real QEMU ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def models(qemu_repo):
    found = {}

    def model(release: str, target: str):
        if (release, target) not in found:
            found[release, target] = build_model(git_revision_tree(qemu_repo, release), target)
        return found[release, target]
    return model


@pytest.mark.qemu
def test_known_targets_of_qemu(qemu_repo):
    for release in ("v7.2.0", "v10.0.2"):
        targets = known_targets(git_revision_tree(qemu_repo, release))
        assert {"x86_64", "aarch64", "i386", "arm", "ppc64"} <= set(targets)


@pytest.mark.qemu
@pytest.mark.parametrize("release", ["v7.2.0", "v10.0.2"])
def test_x86_64_compiles_pc_not_arm(models, release):
    build = models(release, "x86_64")
    assert build.compiles("hw/i386/pc_q35.c") and build.compiles("hw/net/e1000e.c")
    assert not build.compiles("hw/arm/virt.c")
    assert not any(f.startswith("hw/ppc/") for f in build.files)
    assert {"CONFIG_Q35", "CONFIG_KVM", "CONFIG_E1000E_PCI_EXPRESS"} <= build.configs


@pytest.mark.qemu
@pytest.mark.parametrize("release", ["v7.2.0", "v10.0.2"])
def test_aarch64_compiles_arm_not_pc(models, release):
    build = models(release, "aarch64")
    assert build.compiles("hw/arm/virt.c") and build.compiles("hw/net/e1000e.c")
    assert not build.compiles("hw/i386/pc_q35.c")
    # (hw/i386/kvm/xen-stubs.c is built everywhere: it is what non-x86 targets link instead)
    assert not any(f.startswith(("hw/ppc/", "hw/i386/pc")) for f in build.files)
    assert "CONFIG_ARM_VIRT" in build.configs and "CONFIG_KVM" not in build.configs  # an x86_64 host


@pytest.mark.qemu
def test_modules_are_included(models):
    build = models("v10.0.2", "x86_64")
    assert build.compiles("hw/display/qxl.c") and "hw/display/qxl.c" in build.modules
    assert build.compiles("hw/usb/redirect.c") and "hw/usb/redirect.c" in build.modules
    assert not models("v10.0.2", "aarch64").compiles("hw/display/qxl.c")  # QXL is only implied by PC


@pytest.mark.qemu
def test_rust_is_off(models):
    build = models("v10.0.2", "aarch64")
    assert "CONFIG_HAVE_RUST" not in build.configs
    assert build.compiles("hw/char/pl011.c")


def test_target_build_round_trips_through_plain_data(tmp_path):
    import json

    from vmsd_lint.extract.build import TargetBuild, cache_key

    tree = mini_tree(tmp_path)
    build = build_model(tree, "mini")
    assert TargetBuild.from_dict(json.loads(json.dumps(build.to_dict()))) == build
    assert cache_key(tree, "mini") is None  # a directory may change: no cache key


@pytest.mark.qemu
def test_rust_profile_swaps_pl011(qemu_repo):
    from vmsd_lint.extract.build import RELEASE_WITH_RUST, cache_key

    tree = git_revision_tree(qemu_repo, "v10.0.2")
    build = build_model(tree, "aarch64", RELEASE_WITH_RUST)
    assert build.compiles("rust/hw/char/pl011/src/lib.rs") and not build.compiles("hw/char/pl011.c")
    assert cache_key(tree, "aarch64", RELEASE_WITH_RUST) != cache_key(tree, "aarch64")


@pytest.mark.qemu
def test_revision_tree_lists_and_prefetches(qemu_repo):
    tree = git_revision_tree(qemu_repo, "v10.0.2")
    tree.prefetch(["meson.build", "no/such/file", "hw", "hw/meson.build"])
    assert tree.read_path("meson.build").startswith(b"project(")
    assert tree.read_path("no/such/file") is None and tree.read_path("hw") is None  # a directory is no file
    assert tree.read_path("hw/meson.build") == git_revision_tree(qemu_repo, "v10.0.2").read_path("hw/meson.build")
    assert "x86_64-softmmu.mak" in tree.list_dir("configs/targets")
    assert tree.list_dir("no/such/dir") is None


# -- the models of a tree's targets, cached by its build description ----------------------------

def test_target_builds_are_cached_by_the_build_description(tmp_path, monkeypatch):
    from vmsd_lint.extract.build import targets as targets_module
    from vmsd_lint.extract.cache import Cache

    tree = mini_tree(tmp_path / "a")
    cache = Cache(str(tmp_path / "cache"))
    first = targets_module.target_builds(tree, cache)
    assert sorted(first) == ["mini"]
    cache.close()

    def no_model(*args, **kwargs):
        raise AssertionError("computed again although its build description is cached")
    monkeypatch.setattr(targets_module, "build_model", no_model)
    cache = Cache(str(tmp_path / "cache"))
    again = targets_module.target_builds(mini_tree(tmp_path / "b"), cache)  # another tree, same build files
    assert again["mini"] == first["mini"]
    # a source file changed: the same build; a Kconfig changed: computed again
    tree = mini_tree(tmp_path / "c", extra={"main.c": "int x;\n"})
    assert targets_module.target_builds(tree, cache)["mini"] == first["mini"]
    tree = mini_tree(tmp_path / "d", mak="CONFIG_MINI_DEV=y\n")
    with pytest.raises(AssertionError, match="computed again"):
        targets_module.target_builds(tree, cache)
    with pytest.raises(UnknownTarget):
        targets_module.target_builds(tree, cache, ["x86_64"])
    cache.close()


def test_a_tree_without_a_build_description_has_no_targets(tmp_path):
    from vmsd_lint.extract.build.targets import target_builds

    write(tmp_path, {"hw/dev.c": "int x;\n"})
    assert target_builds(directory_tree(str(tmp_path)), None) is None


@pytest.mark.qemu
def test_a_revision_and_its_index_share_a_build_digest(qemu_repo):
    from vmsd_lint.sources.tree import index_tree

    head = git_revision_tree(qemu_repo, "HEAD")
    assert head.build_digest() == index_tree(qemu_repo).build_digest()
    assert head.build_digest() != git_revision_tree(qemu_repo, "v7.2.0").build_digest()
    assert "meson.build" in head.build_files and "hw/arm/Kconfig" in head.build_files
