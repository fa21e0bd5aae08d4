"""Executes notebooks/kernel-smoke.ipynb headless with nbclient and checks its outputs.

usage: /usr/bin/python3 run_notebook.py NOTEBOOK [EXECUTED_COPY]
Exits non-zero, naming each failed check, if the notebook does not behave.
"""
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def outputs_text(cell, kinds=("stream", "execute_result", "display_data", "error")):
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] not in kinds:
            continue
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] == "error":
            parts.append("\n".join(out["traceback"]) + "\n")
        else:
            parts.extend(str(v) + "\n" for v in out["data"].values())
    return "".join(parts)


def main():
    path = sys.argv[1]
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="jmlc", timeout=120, startup_timeout=120)
    try:
        client.execute()
    except CellExecutionError as e:
        print(f"FAIL: a cell not tagged raises-exception failed:\n{e}")
        return 1
    finally:
        if len(sys.argv) > 2:
            nbformat.write(nb, sys.argv[2])

    cells = {c.get("id"): c for c in nb.cells}
    failures = []

    def check(cell_id, what, ok):
        print(("ok   " if ok else "FAIL ") + f"[{cell_id}] {what}")
        if not ok:
            failures.append(f"[{cell_id}] {what}: outputs were {cells[cell_id].get('outputs')}")

    value = cells["value"]["outputs"]
    check("value", "execute_result text/plain is 42",
          any(o["output_type"] == "execute_result" and o["data"].get("text/plain") == "42" for o in value))
    check("stdout", "prints three lines to stdout",
          outputs_text(cells["stdout"], ("stream",)) == "line 1\nline 2\nline 3\n")
    display = cells["display"]["outputs"]
    check("display", "shows text/html with the rich element",
          any(o["output_type"] == "display_data" and "jmlc-rich" in o["data"].get("text/html", "") for o in display))
    check("display", "shows text/markdown",
          any(o["output_type"] == "display_data" and "*markdown*" in o["data"].get("text/markdown", "") for o in display))
    help_text = outputs_text(cells["help"])
    check("help", "%help lists %help, %time and %classpath",
          all(m in help_text for m in ("%help", "%time", "%classpath")))
    errors = [o for o in cells["error"]["outputs"] if o["output_type"] == "error"]
    check("error", "the compile error is reported once", len(errors) == 1)
    if errors:
        tb = "\n".join(errors[0]["traceback"])
        check("error", "the error names the line, the code and the message",
              "line 1" in tb and 'int broken = "not a number";' in tb and "incompatible types" in tb)
    check("state", "state survived the error: answer + 1 is 43",
          any(o["output_type"] == "execute_result" and o["data"].get("text/plain") == "43"
              for o in cells["state"]["outputs"]))

    total = sum(1 for _ in failures)
    print(f"notebook {path}: {'FAILED' if failures else 'passed'}" + (f" ({total} failed checks)" if failures else ""))
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
