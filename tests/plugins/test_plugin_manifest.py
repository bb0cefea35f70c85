"""The plugin manifest: what a valid one gives, and errors that name the file and the key."""

from __future__ import annotations

import pytest

from plugin_helpers import EXAMPLE_PLUGIN, manifest_text
from vidstudio.api import API_VERSION
from vidstudio.plugins import ManifestError, load_manifest, parse_manifest


def test_example_manifest_describes_both_nodes_with_namespaced_ids():
    m = load_manifest(EXAMPLE_PLUGIN / "vidstudio_example_nodes" / "vidstudio-plugin.toml")
    assert m.name == "example_nodes" and m.version == "0.1.0"
    assert [m.type_id(n) for n in m.nodes] == ["example_nodes.FilmGrain", "example_nodes.Wiggle"]
    assert m.class_path(m.nodes[0]) == "vidstudio_example_nodes.grain:FilmGrain"
    assert m.node_info(m.nodes[1]) == {
        "title": "Wiggle",
        "category": "Example Nodes",
        "description": "Adds smooth procedural noise to every track of a trajectory.",
        "runs_on": "anywhere",
        "plugin": "example_nodes",
    }
    assert m.compatible() == (True, "")
    assert m.permissions == {}


def test_defaults_class_path_category_and_permissions():
    m = parse_manifest(
        manifest_text(
            "p",
            module="p_mod",
            title="P Tools",
            permissions={"network": "Downloads LUTs", "subprocess": "Runs ffprobe"},
        )
    )
    assert m.class_path(m.nodes[0]) == "p_mod:Const"
    assert m.display_category == "P Tools"
    assert m.permissions == {"network": "Downloads LUTs", "subprocess": "Runs ffprobe"}


@pytest.mark.parametrize(
    "overrides, where, words",
    [
        ({"name": "my-plugin"}, "name", "not a plugin name"),
        ({"version": "one"}, "version", "not a version"),
        ({"api_versions": "about 1"}, "api_versions", "not a version range"),
        ({"author": None}, "author", "is required"),
        ({"license": None}, "license", "is required"),
        ({"homepage": "example.org"}, "homepage", "not an http(s) URL"),
        ({"requirements": ["numpy >>> 1"]}, "requirements", "not a requirement"),
        ({"manifest_version": 7}, "manifest_version", "not supported"),
        ({"colour": "blue"}, "colour", "not a manifest key"),
    ],
)
def test_bad_fields_name_the_key(overrides, where, words):
    with pytest.raises(ManifestError) as e:
        parse_manifest(manifest_text("p", **overrides), "plug/vidstudio-plugin.toml")
    assert any(p.where == where and words in p.message for p in e.value.problems), e.value.problems
    assert str(e.value).startswith("plug/vidstudio-plugin.toml: ")


def test_bad_permissions_and_nodes():
    with pytest.raises(
        ManifestError, match=r"permissions: .*unknown permission 'camera' \(known: network, files, subprocess\)"
    ):
        parse_manifest(manifest_text("p", permissions={"camera": "Films you"}))
    with pytest.raises(ManifestError, match="network: give the reason"):
        parse_manifest(manifest_text("p", permissions={"network": "  "}))
    with pytest.raises(ManifestError, match=r"nodes\[1\].name 'A' repeats"):
        parse_manifest(manifest_text("p", nodes=[{"name": "A"}, {"name": "A"}]))
    with pytest.raises(ManifestError, match=r"nodes\[0\].class: .*not 'module:Class'"):
        parse_manifest(manifest_text("p", nodes=[{"name": "A", "class": "a.b.C"}]))
    with pytest.raises(ManifestError, match="nodes: is required"):
        parse_manifest(manifest_text("p", nodes=[]))
    with pytest.raises(ManifestError, match="nodes: .*at least 1"):
        parse_manifest(manifest_text("p", nodes=[]) + "nodes = []\n")


def test_invalid_toml_gives_line():
    with pytest.raises(ManifestError, match=r"x.toml: invalid TOML: .*line 2"):
        parse_manifest('name = "p"\nversion = \n', "x.toml")


def test_missing_file():
    with pytest.raises(ManifestError, match="nope.toml: file not found"):
        load_manifest("nope.toml")


def test_incompatible_api_range_says_what_it_needs():
    m = parse_manifest(manifest_text("old", api_versions=">=0.1,<1"))
    ok, why = m.compatible()
    assert not ok
    assert why == (
        f"plugin 'old' 1.0.0 needs node API >=0.1,<1, this VidStudio provides {API_VERSION}; "
        "install a release of the plugin made for it"
    )
    assert m.compatible("0.5") == (True, "")
