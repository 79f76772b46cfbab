"""A Dask worker preload for tests: the worker dies whenever it is handed a "killer" student.

It stands in for a submission that takes its worker down (the kernel's OOM
killer, a driver fault): the death comes from outside the sandbox, so no
defence inside it can stop it. Each death is written to TORCHGRADE_TEST_KILLS
first, so a test can count the tries.
"""

import os
import signal

import autograder.runner as runner

_run_jobs = runner.run_jobs


def _dies_for_killers(course, jobs, settings, *args, **kwargs):
    if any(j.student.startswith("killer") for j in jobs):
        with open(os.environ["TORCHGRADE_TEST_KILLS"], "a") as log:
            log.write(f"{os.getpid()} {sorted(j.student for j in jobs)}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    return _run_jobs(course, jobs, settings, *args, **kwargs)


def dask_setup(worker):
    runner.run_jobs = _dies_for_killers
