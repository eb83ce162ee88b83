"""Start-up hook of the processes the tests start (this folder is on their PYTHONPATH): the guard.

Python imports `sitecustomize` once site-packages are on the path; this one installs
tests/helpers/netguard.py, then runs the sitecustomize it shadows, if there is one.
"""

import importlib.machinery
import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))


def _load(name: str, path: str) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load("_tests_netguard", os.path.join(os.path.dirname(_here), "netguard.py"))
sys.modules["_tests_netguard"].install()

_others = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
_shadowed = importlib.machinery.PathFinder.find_spec("sitecustomize", _others)
if _shadowed is not None and _shadowed.origin:
    _load("_shadowed_sitecustomize", _shadowed.origin)
