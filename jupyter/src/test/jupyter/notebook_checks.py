"""What each notebook in notebooks/ must show once executed, by cell id. run_notebook.py runs them.

A notebook without an entry in CHECKS fails CI: every notebook is executed and checked.
"""
import base64
import re


class Checker:
    """An executed notebook's cells by id, and the checks that failed."""

    def __init__(self, nb):
        self.cells = {c.get("id"): c for c in nb.cells}
        self.failures = []

    def check(self, cell_id, what, ok):
        print(("ok   " if ok else "FAIL ") + f"[{cell_id}] {what}")
        if not ok:
            outputs = self.cells[cell_id].get("outputs") if cell_id in self.cells else None
            self.failures.append(f"[{cell_id}] {what}: outputs were {str(outputs)[:3000]}")

    def outputs(self, cell_id):
        return self.cells[cell_id].get("outputs", [])

    def text(self, cell_id, kinds=("stream", "execute_result", "display_data", "error")):
        """Every output's text: streams, every representation of rich outputs, tracebacks."""
        parts = []
        for out in self.outputs(cell_id):
            if out["output_type"] not in kinds:
                continue
            if out["output_type"] == "stream":
                parts.append(out["text"])
            elif out["output_type"] == "error":
                parts.append("\n".join(out["traceback"]) + "\n")
            else:
                parts.extend(str(v) + "\n" for v in out["data"].values())
        return "".join(parts)

    def plain(self, cell_id):
        """The text/plain of rich outputs and the streams: what a person reads, without HTML."""
        parts = []
        for out in self.outputs(cell_id):
            if out["output_type"] == "stream":
                parts.append(out["text"])
            elif out["output_type"] in ("execute_result", "display_data"):
                parts.append(str(out["data"].get("text/plain", "")) + "\n")
        return "".join(parts)

    def data(self, cell_id, mime):
        """The representations of type mime among the cell's rich outputs."""
        return [out["data"][mime] for out in self.outputs(cell_id)
                if out["output_type"] in ("execute_result", "display_data") and mime in out["data"]]

    def errors(self, cell_id):
        return [o for o in self.outputs(cell_id) if o["output_type"] == "error"]

    def has_png_chart(self, cell_id):
        pngs = self.data(cell_id, "image/png")
        if not pngs:
            return False
        png = base64.b64decode(pngs[-1])
        return png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000

    def tables(self, cell_id):
        """Tablesaw tables printed as text/plain: a list of tables, each a list of {column: cell} rows."""
        found = []
        for out in self.outputs(cell_id):
            if out["output_type"] not in ("execute_result", "display_data"):
                continue
            lines = str(out["data"].get("text/plain", "")).splitlines()
            for i, line in enumerate(lines):
                if "|" in line and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
                    header = [h.strip() for h in line.split("|")]
                    rows = []
                    for row in lines[i + 2:]:
                        if "|" not in row:
                            break
                        rows.append(dict(zip(header, (c.strip() for c in row.split("|")))))
                    found.append(rows)
        return found


def prose(c):
    """Every notebook's text: what it says about the devices is true. `cpu` runs the Vector API kernels;
    only `cpu:ref` is the reference interpreter, so a sentence naming the interpreter names cpu:ref."""
    for cell_id, cell in c.cells.items():
        if cell.cell_type != "markdown":
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", cell.source):
            if "reference interpreter" in sentence:
                c.check(cell_id, f"says which device is the reference interpreter (cpu:ref): {sentence.strip()[:120]!r}", "cpu:ref" in sentence)


def number(text):
    try:
        return float(text.replace(",", ""))
    except (AttributeError, ValueError):
        return float("nan")


def bench_rows_positive(c, cell_id, expected_rows):
    """The cell shows a benchmark table with expected_rows runs, each with prefill and decode tok/s > 0."""
    tables = [t for t in c.tables(cell_id) if t and "decode tok/s" in t[0]]
    c.check(cell_id, "shows a benchmark table (Tablesaw, text/plain)", bool(tables))
    if tables:
        rows = tables[-1]
        c.check(cell_id, f"the table has {expected_rows} runs (found {len(rows)})", len(rows) == expected_rows)
        c.check(cell_id, "every run has prefill and decode tok/s > 0",
                all(number(r["prefill tok/s"]) > 0 and number(r["decode tok/s"]) > 0 for r in rows))
    c.check(cell_id, "the HTML table has a decode tok/s column",
            any("decode tok/s</th>" in h for h in c.data(cell_id, "text/html")))


def kernel_smoke(c):
    value = c.outputs("value")
    c.check("value", "execute_result text/plain is 42",
            any(o["output_type"] == "execute_result" and o["data"].get("text/plain") == "42" for o in value))
    c.check("stdout", "prints three lines to stdout", c.text("stdout", ("stream",)) == "line 1\nline 2\nline 3\n")
    c.check("display", "shows text/html with the rich element", any("jmlc-rich" in h for h in c.data("display", "text/html")))
    c.check("display", "shows text/markdown", any("*markdown*" in m for m in c.data("display", "text/markdown")))
    help_text = c.text("help")
    c.check("help", "%help lists %help, %time and %classpath", all(m in help_text for m in ("%help", "%time", "%classpath")))
    errors = c.errors("error")
    c.check("error", "the compile error is reported once", len(errors) == 1)
    if errors:
        tb = "\n".join(errors[0]["traceback"])
        c.check("error", "the error names the line, the code and the message",
                "line 1" in tb and 'int broken = "not a number";' in tb and "incompatible types" in tb)
    c.check("state", "state survived the error: answer + 1 is 43",
            any(o["output_type"] == "execute_result" and o["data"].get("text/plain") == "43" for o in c.outputs("state")))


def getting_started(c):
    help_text = c.plain("help")
    c.check("help", "%help lists the LLM magics",
            all(m in help_text for m in ("%device", "%load", "%reload", "%chat, %%chat", "%bench", "%ir", "%kernels", "%source",
                                         "%stats", "%reset", "Jmlc.model()")))
    devices = c.plain("devices")
    c.check("devices", "%device lists cpu and cpu:ref and marks the one %load uses",
            re.search(r"(?m)^[* ] cpu ", devices) is not None and re.search(r"(?m)^[* ] cpu:ref ", devices) is not None
            and re.search(r"(?m)^\* \S+ ", devices) is not None)
    load = c.plain("load")
    c.check("load", "the summary names the model, quantization, device and chat template",
            all(s in load for s in ("Loaded synthetic:tiny", "q4f16_1", "device ", "llama2", "512 tokens")))
    c.check("load", "the progress display ended 'loaded'", re.search(r"(?m)^loaded \([0-9.]+ s\)", load) is not None)
    reply = c.text("chat", ("stream",))
    c.check("chat", "the reply streamed to stdout", len(reply.strip()) > 0)
    c.check("stats", "%stats shows prefill and decode tok/s",
            re.search(r"prefill: [0-9.]+ tok/s \(\d+ tokens\), decode: [0-9.]+ tok/s \(23 tokens\)", c.plain("stats")) is not None)
    errors = c.errors("bad-load")
    c.check("bad-load", "one clear error naming the unknown model and the known ones",
            len(errors) == 1 and errors[0]["ename"] == "MagicError"
            and "unknown synthetic model 'synthetic:no-such-model': expected one of synthetic:tiny" in "\n".join(errors[0]["traceback"]))
    c.check("still-loaded", "the model stays loaded after the error: the conversation is there",
            "user: What is the capital of France?" in c.plain("still-loaded"))
    bench_rows_positive(c, "bench", 2)
    c.check("bench", "the chart is an image/png", c.has_png_chart("bench"))
    c.check("bench", "the chart is also an image/svg+xml", any("<svg" in s for s in c.data("bench", "image/svg+xml")))
    java = c.plain("java-api")
    m = re.search(r"prefill: ([0-9.]+) tok/s \(\d+ tokens\), decode: ([0-9.]+) tok/s \(63 tokens\)", java)
    c.check("java-api", "cm.stats() after benchmarkGenerate(\"Hi\", 64): decode 63 tokens at > 0 tok/s",
            m is not None and float(m.group(2)) > 0)
    c.check("java-chat", "a chat turn from Java continues the %%chat conversation: 4 messages",
            "4" in [o["data"].get("text/plain") for o in c.outputs("java-chat") if o["output_type"] == "execute_result"])
    c.check("java-config", "the config is shown", "ModelConfig[architecture=LLAMA" in c.plain("java-config"))


def launches(text):
    m = re.search(r"(\d+) launches per step", text)
    return int(m.group(1)) if m else None


def explore_optimizations(c):
    pipeline = c.plain("pipeline")
    c.check("pipeline", "%ir lists the phases; FuseMatmulResidual removes the 8 adds",
            re.search(r"(?m)^FuseMatmulResidual .*-add 8", pipeline) is not None
            and re.search(r"(?m)^FuseMatmulPrologue .*\+matmul_fused", pipeline) is not None)
    before, after = c.plain("ir-before"), c.plain("ir-after")
    c.check("ir-before", "the input graph has add and rms_norm nodes, nothing fused",
            " = add(" in before and " = rms_norm(" in before and "add_rms_norm" not in before and "matmul_fused" not in before)
    c.check("ir-after", "the final graph has norm prologues and residual epilogues",
            "prologue=rms_norm" in after and "epilogue=+residual" in after)
    c.check("ir-after", "no add or rms_norm node is left", " = add(" not in after and " = rms_norm(" not in after)
    cuda = c.plain("kernels-cuda")
    c.check("kernels-cuda", "the decode kernels for cuda:sm_90 include residual GEMVs",
            "for cuda:sm_90:" in cuda and "_res_" in cuda)
    src = c.text("source-cuda")
    c.check("source-cuda", "the CUDA source has __global__ and adds the residual",
            "__global__" in c.plain("source-cuda") and "residual" in c.plain("source-cuda"))
    c.check("source-cuda", "the HTML is highlighted", '<pre class="jmlc-source"' in src and "<span style=" in src)
    hip = c.plain("source-hip")
    c.check("source-hip", "the HIP source has __global__, hip_runtime.h, __shfl_xor and dot2 (hip: is rocm:)",
            "__global__" in hip and "hip/hip_runtime.h" in hip and "__shfl_xor(" in hip and "__builtin_amdgcn_fdot2(" in hip
            and "(rocm:gfx1030, rule " in hip)
    c.check("kernels-hip", "the prefill kernels for gfx90a run on MFMA", "for rocm:gfx90a:" in c.plain("kernels-hip") and "_mfma" in c.plain("kernels-hip"))
    ring = c.plain("ring-source")
    c.check("ring-source", "with --knob ...stages=4 the GEMV copies its weights with cp.async before it waits for the kernel before, "
                           "and waits for them in its loop",
            "_ring4" in ring and "cp.async.cg.shared.global" in ring and "cp.async.wait_group 3;" in ring
            and "griddepcontrol.wait" in ring and ring.index("cp.async.cg.shared.global") < ring.index("griddepcontrol.wait"))
    for cell in ("bench-all", "bench-add-rms-norm", "bench-unfused"):
        bench_rows_positive(c, cell, 3)
        c.check(cell, "the chart is an image/png", c.has_png_chart(cell))
        c.check(cell, "the table gives the mean and standard deviation",
                re.search(r"decode [0-9.]+ ± [0-9.]+ tok/s \(mean ± standard deviation\)", c.plain(cell)) is not None)
    c.check("reload-add-rms-norm", "the reload names the disabled passes",
            "disabled: FuseMatmulPrologue, FuseMatmulResidual" in c.plain("reload-add-rms-norm"))
    add_rms = c.plain("ir-add-rms-norm")
    c.check("ir-add-rms-norm", "without the matmul fusions, the final graph has add_rms_norm (the input had none)",
            " = add_rms_norm(" in add_rms and "matmul_fused" not in add_rms and "add_rms_norm" not in before)
    counts = [launches(c.plain(cell)) for cell in ("kernels-cuda", "kernels-add-rms-norm", "kernels-unfused")]
    c.check("kernels-unfused", f"each fusion switched off costs launches per step ({counts})",
            None not in counts and counts[0] < counts[1] < counts[2])
    c.check("kernels-unfused", "no add_rms_norm kernel without the pass", "add_rms_norm" not in c.plain("kernels-unfused"))
    chart = c.plain("bench-unfused")
    c.check("bench-unfused", "the chart shows the three configurations",
            all(v in chart for v in ("q4f16_1  ", "q4f16_1 -FuseMatmulPrologue -FuseMatmulResidual  ",
                                     "q4f16_1 -FuseAddRmsNorm -FuseMatmulPrologue -FuseMatmulResidual")))
    c.check("restore", "--disable-pass none brings the passes back", "disabled:" not in c.plain("restore"))


def benchmark_devices(c):
    devices = re.findall(r"(?m)^[* ] (\S+)\s", c.plain("devices"))
    c.check("devices", f"%device lists cpu and cpu:ref (found {devices})", "cpu" in devices and "cpu:ref" in devices)
    # Vulkan on the CPU (lavapipe) is not listed (auto skips it) but named in the note; the sweep runs it too
    devices += re.findall(r"name it with --device (vulkan:\d+)", c.plain("devices"))
    sweep = re.findall(r"(?m)^(\S+)\s+(\S+)\s+prefill\s+([0-9.]+) ± [0-9.]+ tok/s\s+decode\s+([0-9.]+) ± [0-9.]+ tok/s$",
                       c.text("sweep", ("stream",)))
    c.check("sweep", f"one line per device and quantization, mean ± standard deviation ({len(sweep)} for {len(devices)} devices)",
            len(sweep) == 2 * len(devices))
    c.check("sweep", "every run has prefill and decode > 0", all(float(p) > 0 and float(d) > 0 for _, _, p, d in sweep))
    speed = {(dev, quant): (float(p), float(d)) for dev, quant, p, d in sweep}
    for quant in ("q4f16_1", "q0f32"):
        if ("cpu", quant) in speed and ("cpu:ref", quant) in speed:
            fast, ref = speed[("cpu", quant)], speed[("cpu:ref", quant)]
            c.check("sweep", f"warmed up, the Vector API runner beats the reference interpreter at {quant}: prefill {fast[0]} > {ref[0]},"
                             f" decode {fast[1]} > {ref[1]} tok/s", fast[0] > ref[0] and fast[1] > ref[1])
    bench_rows_positive(c, "table", 6 * len(devices))
    c.check("chart", "the chart is an image/png", c.has_png_chart("chart"))
    c.check("chart", "the chart is also an image/svg+xml", any("<svg" in s for s in c.data("chart", "image/svg+xml")))
    c.check("chart", "the chart covers every device", all(f"{d}  synthetic:tiny" in c.plain("chart") for d in devices))
    bench_rows_positive(c, "magic-bench", 2)
    c.check("magic-bench", "%bench adds to the same history: its chart has the sweep's runs and its own",
            "(2 runs)" in c.plain("magic-bench") and "q4f32_1" in c.plain("magic-bench") and "q0f32" in c.plain("magic-bench"))
    summary = c.tables("summary")
    c.check("summary", "a Tablesaw summary by device and quant, shown as HTML too",
            bool(summary) and "Mean [decode tok/s]" in summary[0][0] and any("<table" in h for h in c.data("summary", "text/html")))


CHECKS = {
    "kernel-smoke.ipynb": kernel_smoke,
    "getting-started.ipynb": getting_started,
    "explore-optimizations.ipynb": explore_optimizations,
    "benchmark-devices.ipynb": benchmark_devices,
}
