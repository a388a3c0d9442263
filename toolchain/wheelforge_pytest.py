"""Runs a package's own pytest suite and records every test's outcome.

wheelforge links this module into the test component (componentize-py), and also runs it
with a native CPython for the reference counts, so both runs collect and judge tests the same
way. Node ids are made relative to the import root (`numpy/_core/tests/test_x.py::test_y`),
so that the two runs and the recipe's skip list agree.

The configuration is a JSON file:
  {"args": [...], "roots": [...], "skips": [[entry, reason], ...],
   "done": [nodeid, ...], "ignore": [path, ...]}
A skip entry is a node id, or a prefix of one ending at a `::` or `[` boundary, or a file or a
directory (ending in `/`). `done` (tests finished by an earlier attempt) are deselected and
`ignore` (files whose collection crashed or failed in an earlier attempt) are not collected: a
wasm trap ends the whole guest, so wheelforge restarts the run after one and continues where it
stopped.

Progress goes to `progress.jsonl` in the results directory, one flushed JSON object a line:
  {"collect": path}             before a file is collected
  {"start": nodeid}             before a test runs
  {"test": nodeid, "outcome": o, "seconds": s}  when its outcome is known
  {"exit": status}              when pytest has finished
An outcome is passed, failed, skipped, xfailed, xpassed or error; an unused skip entry is
reported as {"unused-skip": entry}.
"""

import json
import os
import sys

import pytest

PROGRESS_NAME = "progress.jsonl"


def _matches(nodeid, entry):
    if nodeid == entry:
        return True
    if entry.endswith("/"):
        return nodeid.startswith(entry)
    return nodeid.startswith(entry + "::") or nodeid.startswith(entry + "[")


def _relative_path(path, roots):
    """`path` relative to the first import root that contains it, with `/` separators."""
    text = str(path).replace(os.sep, "/")
    for root in roots:
        prefix = root.rstrip("/") + "/"
        if text.startswith(prefix):
            return text[len(prefix):]
    return None


class Recorder:
    """The pytest plugin: applies the skip list and the resume state, and records outcomes."""

    def __init__(self, config, progress):
        self.skips = [tuple(entry) for entry in config.get("skips", [])]
        self.roots = config["roots"]
        self.done = set(config.get("done", []))
        self.ignore = set(config.get("ignore", []))
        self.used = set()
        self.progress = progress
        self.collecting = None

    def emit(self, record):
        self.progress.write(json.dumps(record) + "\n")
        self.progress.flush()

    def nodeid(self, item):
        path = _relative_path(item.path, self.roots)
        if path is None:
            return item.nodeid
        rest = item.nodeid.split("::", 1)
        return path + ("::" + rest[1] if len(rest) == 2 else "")

    def pytest_ignore_collect(self, collection_path, config):
        path = _relative_path(collection_path, self.roots)
        if path is None:
            return None
        if path in self.ignore:
            return True
        for entry, _reason in self.skips:
            if entry.rstrip("/") == path:
                self.used.add(entry)
                return True
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collectstart(self, collector):
        if isinstance(collector, pytest.File):
            path = _relative_path(collector.path, self.roots)
            if path is not None:
                self.emit({"collect": path})
            self.collecting = path

    def pytest_collectreport(self, report):
        # A file that cannot be collected (an import error) is one error under its path.
        if report.failed:
            self.emit({"test": self.collecting or report.nodeid, "outcome": "error"})

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        kept, deselected = [], []
        for item in items:
            item.wheelforge_nodeid = self.nodeid(item)
            entry = next(
                (skip for skip in self.skips if _matches(item.wheelforge_nodeid, skip[0])),
                None,
            )
            if entry is not None:
                # Used even by a test an earlier attempt already ran (skipped): after a crash,
                # the resumed attempt deselects it, and its entry is not stale.
                self.used.add(entry[0])
            if item.wheelforge_nodeid in self.done:
                deselected.append(item)
                continue
            kept.append(item)
            if entry is not None:
                item.add_marker(pytest.mark.skip(reason="wheelforge skip list: " + entry[1]))
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = kept

    def pytest_runtest_logstart(self, nodeid, location):
        self.emit({"start": self.current(nodeid)})

    def current(self, nodeid):
        return self.ids.get(nodeid, nodeid)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        # Items keep the id given in pytest_collection_modifyitems; with -x after a collection
        # error that hook does not run, so compute it here too.
        self.ids = {item.nodeid: self.nodeid(item) for item in session.items}

    def pytest_runtest_logreport(self, report):
        nodeid = self.current(report.nodeid)
        outcome = None
        if report.when == "setup" and not report.passed:
            outcome = "error" if report.failed else "skipped"
        elif report.when == "call":
            outcome = report.outcome
        elif report.when == "teardown" and report.failed:
            outcome = "error"
        if outcome is None:
            return
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        self.emit({"test": nodeid, "outcome": outcome, "seconds": round(report.duration, 4)})

    def finish(self, status):
        for entry, _reason in self.skips:
            if entry not in self.used:
                self.emit({"unused-skip": entry})
        self.emit({"exit": int(status)})


def run(config_path, results_dir):
    """Runs pytest as `config_path` says; returns pytest's exit status."""
    with open(config_path) as file:
        config = json.load(file)
    if config.get("chdir"):
        # The suite opens its data relative to the source tree (the recipe's `run-in-files`).
        os.chdir(config["chdir"])
    with open(os.path.join(results_dir, PROGRESS_NAME), "a") as progress:
        recorder = Recorder(config, progress)
        recorder.ids = {}
        status = pytest.main(list(config["args"]), plugins=[recorder])
        recorder.finish(status)
    return int(status)


if __name__ == "__main__":
    # The native reference run: python wheelforge_pytest.py CONFIG.json RESULTS_DIR
    run(sys.argv[1], sys.argv[2])
    sys.exit(0)
