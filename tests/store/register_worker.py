"""A separate process that registers model versions: run by test_concurrent_versions.py.

Usage: python register_worker.py DATABASE_URL HOME NAMESPACE NAME COUNT READY_FILE GO_FILE

It opens its own registry (its own engine and connections), announces it is ready, waits
for the go file so every worker starts writing at the same moment, then registers COUNT
versions and prints the version numbers it was given as one JSON list.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from modelatlas.config import Settings
from modelatlas.registry import Registry, VersionRegistration


def main(argv: list[str]) -> int:
    url, home, namespace, name, count, ready, go = argv
    registry = Registry.open(Settings(home=Path(home), database_url=url, actor="worker"),
                             migrate=False)
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists():
        if time.monotonic() > deadline:
            print("never told to start", file=sys.stderr)
            return 2
        time.sleep(0.005)
    numbers = []
    for _ in range(int(count)):
        reg = registry.register_version(namespace, name, VersionRegistration())
        numbers.append(int(reg.model_version.version or 0))
    registry.close()
    print(json.dumps(numbers))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
