"""turngym.sandboxes."""

import importlib
from typing import Any

# The Docker backend needs the `swe` extra (the docker SDK); it is imported on first use, so
# `import turngym.sandboxes` works without it.
_DOCKER_EXPORTS = {
    "DockerSandbox": "docker_sandbox",
    "WarmPool": "docker_sandbox",
    "ContainerSpec": "docker_sandbox",
    "reap_stale": "docker_sandbox",
    "ensure_base_image": "docker_images",
    "build_project_image": "docker_images",
    "ensure_engine": "docker_engine",
    "EngineUnavailable": "docker_engine",
}

# The local fork-server backend (stdlib and psutil only); lazy too, so importing the package
# starts no server and imports nothing heavy.
_LOCAL_EXPORTS = {
    "ForkServerSandbox": "forkserver",
    "ForkServer": "forkserver",
    "shared_server": "forkserver",
    "SetupError": "forkserver",
    "Limits": "isolation",
    "run_reward_code": "reward_code",
    "RewardCodeError": "reward_code",
}


def __getattr__(name: str) -> Any:
    module = _DOCKER_EXPORTS.get(name) or _LOCAL_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
