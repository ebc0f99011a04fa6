"""What a run captures of its environment: every installed distribution once, as pip names it."""

from __future__ import annotations

from importlib import metadata

from vigil.client.tracking.capture import capture_environment, installed_packages


def test_installed_packages_are_each_distributions_name_and_version() -> None:
    expected: dict[str, str] = {}
    for dist in metadata.distributions():
        if dist.name:
            expected.setdefault(dist.name.lower(), f"{dist.name}=={dist.version}")
    listed = installed_packages()
    assert listed == [expected[k] for k in sorted(expected)]
    assert any(line.startswith("numpy==") for line in listed)
    requirements = capture_environment().artifacts["vigil/requirements.txt"].decode()
    assert requirements == "\n".join(listed) + "\n"
