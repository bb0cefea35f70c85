"""The server's request path for the Go-with-the-Flow initial noise: a project's Conditioning `initial_noise`,
`noise_degradation` and `flow` link reach the job as they are, and `warped` without a flow is refused at
submission, naming the node and its input."""

from __future__ import annotations

import dataclasses
import json

import pytest

from helpers import project_doc
from server.test_server_units import FakeCatalog, FakeStore
from vidstudio.nodes import builtin_registry
from vidstudio.protocol import ProjectGeneration
from vidstudio.server.build import NodeTypes, RequestError, build_project


class FolderCatalog(FakeCatalog):
    """The fake catalogue, its CogVideoX model a folder that exists (a bare model_index.json)."""

    def __init__(self, folder):
        super().__init__()
        self.folder = folder

    def resolve(self, model_id):
        return dataclasses.replace(super().resolve(model_id), target=str(self.folder))


def project(flow: bool) -> dict:
    return project_doc(
        [
            {"id": "model", "type": "LoadModel", "params": {"model": "cogvideox"}},
            {"id": "flow", "type": "MotionFlow"},
            {
                "id": "cond",
                "type": "Conditioning",
                "params": {"prompt": "a fox", "initial_noise": "warped", "noise_degradation": 0.3},
            },
            {"id": "gen", "type": "Generate", "params": {}},
        ],
        [
            {"from": "model.model", "to": "gen.model"},
            {"from": "cond.conditioning", "to": "gen.conditioning"},
            *([{"from": "flow.flow", "to": "cond.flow"}] if flow else []),
        ],
    )


def build(doc: dict, catalog):
    req = ProjectGeneration(project=doc, output_node="gen")
    return build_project(req, catalog, FakeStore(), NodeTypes(builtin_registry(), None), "gen_x")


def test_warped_without_a_flow_is_refused_naming_the_conditioning_input():
    with pytest.raises(RequestError) as e:
        build(project(flow=False), FakeCatalog())
    fields = dict(e.value.problems)
    assert "initial noise 'warped' needs a flow" in fields["project.nodes.cond.inputs.flow"]


def test_the_warped_mode_and_its_flow_reach_the_job(tmp_path):
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "CogVideoXPipeline"}))
    spec = build(project(flow=True), FolderCatalog(tmp_path))
    doc = json.loads(spec.project)  # what the worker runs
    cond = next(n for n in doc["nodes"] if n["id"] == "cond")
    assert cond["params"]["initial_noise"] == "warped" and cond["params"]["noise_degradation"] == 0.3
    assert {"from": "flow.flow", "to": "cond.flow"} in doc["links"]
