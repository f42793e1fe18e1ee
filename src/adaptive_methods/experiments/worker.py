"""One run of a grid in a process of its own: ``python -m adaptive_methods.experiments.worker JOB``.

``JOB`` is the JSON the grid writes (configuration, folders, experiment name, command, the
grid's process id). The worker exits when the grid's main process is gone, so a killed grid
leaves no worker behind; its exit status is 0 once the result file is written.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import warnings


def _watch_parent(parent: int) -> None:
    """Exit as soon as the grid process that started this worker is gone."""
    while True:
        if os.getppid() != parent:
            os._exit(70)
        time.sleep(0.5)


def main(argv: list[str]) -> int:
    job = json.loads(argv[0])
    threading.Thread(target=_watch_parent, args=(job["parent"],), daemon=True).start()
    from .config import RunConfig
    from .training import train

    config = RunConfig.from_dict(job["config"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        train(config, out_dir=job["out_dir"], checkpoint_dir=job["checkpoint_dir"], progress=False,
              experiment=job["experiment"], command=job["command"], resume=job.get("resume", True))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as exc:  # the grid reports the last line of the log
        import traceback

        traceback.print_exc()
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
