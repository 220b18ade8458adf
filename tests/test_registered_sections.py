"""A section NEW registers with vmstate_register() from the init path of a device OLD
also has: every VM with that device sends it, and OLD knows no such section (a branch of
v10.0.2 that registers icp/server from icp_realize(), as 10.0.13 does)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import make_branch

from vmsd_lint.cli.main import main

pytestmark = pytest.mark.qemu

XICS = "hw/intc/xics.c"
REALIZE_END = '''            error_propagate(errp, err);
            return;
        }
    }
}

static void icp_unrealize'''
REGISTERED = '''            error_propagate(errp, err);
            return;
        }
    }

    vmstate_register(NULL, icp->cs->cpu_index, &vmstate_icp_server, icp);
}

static void icp_unrealize'''
NEW_DEVICE = '''static void icp_unrealize'''
NEW_DEVICE_TYPE = '''static const VMStateDescription vmstate_h17b_probe = {
    .name = "h17b-probe",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(xirr, ICPState),
        VMSTATE_END_OF_LIST()
    },
};

static void h17b_probe_realize(DeviceState *dev, Error **errp)
{
    vmstate_register(NULL, 0, &vmstate_h17b_probe, dev);
}

static void h17b_probe_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = h17b_probe_realize;
}

static const TypeInfo h17b_probe_info = {
    .name = "h17b-probe",
    .parent = TYPE_DEVICE,
    .instance_size = sizeof(ICPState),
    .class_init = h17b_probe_class_init,
};

static void h17b_probe_register_types(void)
{
    type_register_static(&h17b_probe_info);
}

type_init(h17b_probe_register_types)

static void icp_unrealize'''


def check(repo: Path, revisions: str) -> dict[str, dict]:
    result = CliRunner().invoke(main, ["--format", "json", "--repo", str(repo), "--cache-dir", str(repo / "cache"),
                                       revisions], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    return {f["vmsd"]: f for f in json.loads(result.output)["findings"] if f["rule"] == "section-added"}


@pytest.fixture(scope="module")
def clone(qemu_repo, tmp_path_factory) -> Path:
    """A clone sharing the repository's objects: the branches made here stay out of it."""
    clone = tmp_path_factory.mktemp("qemu") / "qemu"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", qemu_repo, str(clone)], check=True)
    make_branch(clone, "icp-registered", {XICS: (REALIZE_END, REGISTERED)})
    make_branch(clone, "new-device-registers", {XICS: (NEW_DEVICE, NEW_DEVICE_TYPE)})
    return clone


def test_a_section_registered_by_an_existing_device_breaks_backward(clone) -> None:
    found = check(clone, "v10.0.2..icp-registered")
    added = found["icp/server"]
    assert (added["severity"], added["directions"]) == ("warning", ["backward"])
    assert "icp" in added["types"]  # the device both sides have
    assert added["runtime_error"].startswith("Unknown savevm section or instance 'icp/server' <icp->cs->cpu_index>")
    assert check(clone, "icp-registered..v10.0.2") == {}  # the other way round it is a removal


def test_a_section_of_a_device_old_does_not_have_stays_info(clone) -> None:
    found = check(clone, "v10.0.2..new-device-registers")
    added = found["h17b-probe"]
    assert (added["severity"], added["directions"]) == ("info", [])
