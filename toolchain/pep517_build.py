"""A minimal PEP 517 front end for cross builds, run by wheelforge with the host CPython 3.14.

Usage: pep517_build.py static|dynamic|wheel SOURCE_DIR OUT_DIR CONFIG_SETTINGS_JSON

Results go to OUT_DIR: requires.json (static, dynamic) or wheel.txt (wheel).

pip cannot be used as the front end here: the target sysconfig (selected with
_PYTHON_SYSCONFIGDATA_NAME) must reach the build backend only, while pip must keep resolving
build tools for the build machine. wheelforge installs the tools, then runs this script with
the target environment set.
"""
import importlib
import json
import os
import sys
import tomllib

phase, source, out_dir, settings = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
os.chdir(source)
data = {}
if os.path.exists("pyproject.toml"):
    with open("pyproject.toml", "rb") as file:
        data = tomllib.load(file)
build_system = data.get("build-system", {})
if phase == "static":
    static = build_system.get("requires", ["setuptools>=40.8.0"])
    with open(os.path.join(out_dir, "requires.json"), "w") as file:
        json.dump(static, file)
    sys.exit(0)
backend_name = build_system.get("build-backend", "setuptools.build_meta:__legacy__")
for path in reversed(build_system.get("backend-path", [])):
    sys.path.insert(0, os.path.join(source, path))
module_name, _, attribute = backend_name.partition(":")
backend = importlib.import_module(module_name)
for part in filter(None, attribute.split(".")):
    backend = getattr(backend, part)
config_settings = json.loads(settings) or None

if phase == "dynamic":
    hook = getattr(backend, "get_requires_for_build_wheel", None)
    with open(os.path.join(out_dir, "requires.json"), "w") as file:
        json.dump(list(hook(config_settings) if hook else []), file)
else:
    name = backend.build_wheel(out_dir, config_settings)
    with open(os.path.join(out_dir, "wheel.txt"), "w") as file:
        file.write(name)
