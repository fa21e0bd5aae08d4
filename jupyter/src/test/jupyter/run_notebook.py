"""Executes a notebook headless with nbclient, then runs its checks (notebook_checks.py).

usage: /usr/bin/python3 run_notebook.py NOTEBOOK [EXECUTED_COPY]
Exits non-zero, naming each failed check, if the notebook does not behave: a cell not tagged
raises-exception fails, a check fails, the notebook has no checks, or it takes longer than
MAX_SECONDS (env NOTEBOOK_MAX_SECONDS, default 120).
"""
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import notebook_checks

MAX_SECONDS = float(os.environ.get("NOTEBOOK_MAX_SECONDS", "120"))


def main():
    path = sys.argv[1]
    name = os.path.basename(path)
    checks = notebook_checks.CHECKS.get(name)
    if checks is None:
        print(f"FAIL: {name} has no checks: add them to notebook_checks.CHECKS")
        return 1
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="jmlc", timeout=120, startup_timeout=120)
    start = time.time()
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"FAIL: {name}: a cell not tagged raises-exception failed:\n{e}")
        return 1
    finally:
        if len(sys.argv) > 2:
            nbformat.write(nb, sys.argv[2])
    seconds = time.time() - start

    result = notebook_checks.Checker(nb)
    checks(result)
    notebook_checks.prose(result)
    result.check("(notebook)", f"runs in {seconds:.1f} s, under {MAX_SECONDS:.0f} s", seconds < MAX_SECONDS)
    print(f"notebook {name}: {'FAILED' if result.failures else 'passed'} in {seconds:.1f} s"
          + (f" ({len(result.failures)} failed checks)" if result.failures else ""))
    for f in result.failures:
        print("  " + f)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
