"""A person's view of the jmlc kernel: the classic Jupyter Notebook in headless Chromium.

Opens the smoke notebook from a running notebook server, runs two cells the way a person does
(click into the cell, Shift+Enter) and checks what the page shows; then opens getting-started.ipynb,
runs its %device, %load and %bench cells, checks the tables and the chart, and saves a screenshot
of it whose pixels are checked too.

usage: /usr/bin/python3 browser_test.py BASE_URL TOKEN SCREENSHOT.png
"""
import struct
import sys
import tempfile
import time
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1100"]


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG, with the filters undone."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    base, token, shot = sys.argv[1], sys.argv[2], sys.argv[3]
    failures = []

    def check(what, ok, detail=""):
        print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail and not ok else ""))
        if not ok:
            failures.append(what)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS + ["--user-data-dir=" + tempfile.mkdtemp(prefix="jmlc-chromium-")]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"{base}/notebooks/kernel-smoke.ipynb?token={token}")
        wait = WebDriverWait(driver, 90, poll_frequency=0.25)
        wait.until(lambda d: d.execute_script(
            "return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
            " && Jupyter.notebook.kernel.is_connected() && Jupyter.notebook.kernel.info_reply"
            " && Jupyter.notebook.kernel.info_reply.implementation)"))
        check("the notebook names the kernel 'Java (jmlc)'",
              driver.find_element(By.CSS_SELECTOR, ".kernel_indicator_name").text == "Java (jmlc)",
              driver.find_element(By.CSS_SELECTOR, ".kernel_indicator_name").text)
        implementation = driver.execute_script("return Jupyter.notebook.kernel.info_reply.implementation")
        check("the kernel answers kernel_info as jmlc", implementation == "jmlc", implementation)

        code_cells = driver.find_elements(By.CSS_SELECTOR, ".cell.code_cell")

        def run(cell, expect_css, expect_text):
            cell.find_element(By.CSS_SELECTOR, ".CodeMirror").click()
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
            try:
                WebDriverWait(driver, 60, poll_frequency=0.25).until(
                    lambda d: any(expect_text in e.text for e in cell.find_elements(By.CSS_SELECTOR, expect_css)))
                return True
            except Exception:
                return False

        # 1st code cell: int answer = 6 * 7; answer
        ok = run(code_cells[0], ".output_area .output_subarea", "42")
        out_prompt = code_cells[0].find_elements(By.CSS_SELECTOR, ".output_area .prompt")
        check("running the first cell shows its value 42 in the output area", ok,
              code_cells[0].text)
        check("the output is an Out[n] result", any("Out[" in p.text for p in out_prompt),
              [p.text for p in out_prompt])
        # 3rd code cell: Display.html(...) and display(markdown)
        ok = run(code_cells[2], ".output_area .output_html, .output_area .output_markdown", "Rich output")
        check("HTML displayed from Java renders as HTML (a bold element)", ok and driver.execute_script(
            "var e = document.getElementById('jmlc-rich'); return !!e && e.tagName === 'B'"
            " && getComputedStyle(e).fontWeight >= 600"))
        try:
            WebDriverWait(driver, 10, poll_frequency=0.25).until(lambda d: d.execute_script(
                "return Array.from(document.querySelectorAll('.output_area em')).some(e => e.textContent === 'markdown')"))
            ok = True
        except Exception:
            ok = False
        check("markdown displayed from Java renders as markdown (emphasis)", ok,
              driver.execute_script("return Array.from(document.querySelectorAll('.output_area')).map(e => e.innerHTML).join('\\n')"))
        errors = driver.find_elements(By.CSS_SELECTOR, ".output_error")
        check("no error output on the page", not errors, [e.text for e in errors])

        # getting-started.ipynb: what a new user runs first, %device, %load and %bench
        driver.execute_script("Jupyter.notebook.set_dirty(false); window.onbeforeunload = null;")
        driver.get(f"{base}/notebooks/getting-started.ipynb?token={token}")
        wait.until(lambda d: d.execute_script(
            "return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
            " && Jupyter.notebook.kernel.is_connected() && Jupyter.notebook.kernel.info_reply"
            " && Jupyter.notebook.kernel.info_reply.implementation)"))

        def cell(source):
            """The code cell whose source is exactly this."""
            return driver.execute_script(
                "var c = Jupyter.notebook.get_cells().find(c => c.cell_type === 'code' && c.get_text() === arguments[0]);"
                " return c ? c.element[0] : null", source)

        def run_long(element, done_js, timeout=120):
            element.find_element(By.CSS_SELECTOR, ".CodeMirror").click()
            ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
            try:
                WebDriverWait(driver, timeout, poll_frequency=0.25).until(lambda d: d.execute_script(done_js, element))
                return True
            except Exception:
                return False

        devices = cell("%device")
        ok = run_long(devices, "return Array.from(arguments[0].querySelectorAll('.output_html td')).some(td => td.textContent === 'cpu:ref')")
        check("%device shows the devices as an HTML table with cpu:ref", ok, devices.text)
        load = cell("%load synthetic:tiny --max-context 512")
        ok = run_long(load, "return Array.from(arguments[0].querySelectorAll('.output_html th')).some(th => th.textContent === 'quantization')")
        check("%load shows its progress and the model's summary table", ok and "loaded (" in load.text and "q4f16_1" in load.text,
              load.text)
        bench = cell("%bench --gen 32 --runs 2")
        ok = run_long(bench, "var a = arguments[0]; return !!a.querySelector('.output_svg svg, .output_png img')")
        check("%bench draws its chart", ok, bench.text)
        size = driver.execute_script(
            "var e = arguments[0].querySelector('.output_svg svg, .output_png img'); if (!e) return [0, 0];"
            " var r = e.getBoundingClientRect(); return [r.width, r.height]", bench)
        check(f"the chart is drawn at a readable size ({size[0]:.0f}x{size[1]:.0f})", size[0] >= 400 and size[1] >= 200)
        check("%bench shows the runs as a table with a decode tok/s column",
              driver.execute_script("return Array.from(arguments[0].querySelectorAll('.output_html th'))"
                                    ".some(th => th.textContent === 'decode tok/s')", bench))
        driver.execute_script("arguments[0].scrollIntoView()", bench)
        errors = driver.find_elements(By.CSS_SELECTOR, ".output_error")
        check("no error output on getting-started", not errors, [e.text for e in errors])
        time.sleep(0.5)
        driver.save_screenshot(shot)
    finally:
        driver.quit()

    width, height, bpp, rows = png_pixels(shot)
    colors, non_white = set(), 0
    for row in rows[::2]:
        for x in range(0, width * bpp, bpp * 2):
            px = row[x:x + 3]
            colors.add(px)
            if px != b"\xff\xff\xff":
                non_white += 1
    sampled = len(rows[::2]) * len(range(0, width * bpp, bpp * 2))
    check(f"the screenshot is {width}x{height}, at least 1000x800", width >= 1000 and height >= 800)
    check(f"the screenshot has many colours ({len(colors)})", len(colors) >= 50)
    check(f"the screenshot is not blank ({100 * non_white / sampled:.1f}% non-white)", non_white / sampled > 0.02)

    print(f"browser test: {'FAILED' if failures else 'passed'}, screenshot {shot}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
