"""The jmlc kernel over Jupyter's messaging protocol: jupyter_kernel_test's checks, then ours.

Run by run-kernel-tests.sh with Debian's /usr/bin/python3, after the kernel spec "jmlc" is installed.
"""
import base64
import os
import tempfile
import time
import unittest
from queue import Empty

import jupyter_kernel_test as jkt
from jupyter_client.manager import start_new_kernel
from jupyter_client.utils import run_sync

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


class JmlcKernelTests(jkt.KernelTests):
    kernel_name = "jmlc"
    language_name = "java"
    file_extension = ".jshell"

    code_hello_world = 'System.out.println("hello, world")'
    code_stderr = 'System.err.println("to stderr")'

    completion_samples = [
        {"text": "Jmlc.sess", "matches": {"session()"}},
        {"text": "%he", "matches": {"%help"}},
        {"text": "%help cl", "matches": {"classpath"}},
        {"text": "int x = 1;\nJmlc.out", "matches": {"output()"}},
    ]
    complete_code_samples = ["1 + 1", "int x = 1;", "%help", "int a = 1;\nint b = 2;"]
    incomplete_code_samples = ["for (int i = 0; i < 3; i++) {", "void f() {", "int y ="]
    invalid_code_samples = ["int w = ; int v = 2;"]

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": 'int base = 40;\n"n=" + (base + 2)', "result": '"n=42"'},
        {"code": 'MimeBundle.html("<b>x</b>")', "mime": "text/html", "result": "<b>x</b>"},
        {"code": "%help", "mime": "text/html"},
    ]
    code_display_data = [
        {"code": 'display(MimeBundle.html("<b>hi</b>"))', "mime": "text/html"},
        {"code": 'Display.markdown("# title")', "mime": "text/markdown"},
        {"code": 'Display.svg("<svg xmlns=\\"http://www.w3.org/2000/svg\\" width=\\"10\\" height=\\"10\\"/>")',
         "mime": "image/svg+xml"},
        {"code": 'Display.png(Base64.getDecoder().decode("%s"))' % base64.b64encode(PNG_1x1).decode(),
         "mime": "image/png"},
    ]
    code_inspect_sample = "Math.max"
    code_generate_error = 'throw new IllegalStateException("boom")'

    # ---- beyond jupyter_kernel_test --------------------------------------------------------

    def run_cell(self, code, timeout=30):
        """Executes code; returns (reply, [(seconds since sent, msg)]) for its iopub messages."""
        self.flush_channels()
        start = time.time()
        msg_id = self.kc.execute(code)
        reply = self.get_non_kernel_info_reply(timeout=timeout)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        outputs = []
        while True:
            msg = run_sync(self.kc.iopub_channel.get_msg)(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg["msg_type"] not in ("status", "execute_input"):
                outputs.append((time.time() - start, msg))
        return reply, outputs

    def text_of(self, outputs, msg_type="stream"):
        return "".join(m["content"].get("text", "") for _, m in outputs if m["msg_type"] == msg_type)

    def test_state_survives_every_kind_of_error(self):
        reply, _ = self.run_cell('String kept = "survived";')
        self.assertEqual(reply["content"]["status"], "ok")
        for bad, ename, words in [
            ('%help nosuch', "MagicError", "no magic named nosuch"),
            ('%nosuch', "MagicError", "Unknown magic %nosuch"),
            ('%classpath add /no/such.jar', "MagicError", "no such file or folder"),
            ('int broken = "text";', "CompileError", "incompatible types"),
            ('Object o = null;\no.toString()', "java.lang.NullPointerException", "NullPointerException"),
        ]:
            with self.subTest(code=bad):
                reply, outputs = self.run_cell(bad)
                self.assertEqual(reply["content"]["status"], "error")
                self.assertEqual(reply["content"]["ename"], ename)
                errors = [m for _, m in outputs if m["msg_type"] == "error"]
                self.assertEqual(len(errors), 1)
                self.assertIn(words, "\n".join(errors[0]["content"]["traceback"]))
        reply, outputs = self.run_cell("kept")
        self.assertEqual(reply["content"]["status"], "ok")
        results = [m for _, m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], '"survived"')

    def test_compile_error_names_line_and_message(self):
        _, outputs = self.run_cell('int fine = 1;\nString s = 3;')
        error = [m for _, m in outputs if m["msg_type"] == "error"][0]["content"]
        text = "\n".join(error["traceback"])
        self.assertIn("line 2", text)
        self.assertIn("String s = 3;", text)
        self.assertIn("incompatible types: int cannot be converted to java.lang.String", text)

    def test_stdout_streams_while_the_cell_runs(self):
        reply, outputs = self.run_cell(
            'System.out.println("first");\nThread.sleep(1500);\nSystem.out.println("second");')
        self.assertEqual(reply["content"]["status"], "ok")
        streams = [(t, m["content"]["text"]) for t, m in outputs if m["msg_type"] == "stream"]
        self.assertEqual("".join(s for _, s in streams), "first\nsecond\n")
        self.assertGreaterEqual(len(streams), 2, streams)

    def test_stream_arrives_before_the_cell_ends(self):
        self.flush_channels()
        msg_id = self.kc.execute('System.out.println("early");\nThread.sleep(3000);\n"late"')
        first = None
        while first is None:
            msg = run_sync(self.kc.iopub_channel.get_msg)(timeout=10)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                first = msg
        # the cell is still sleeping: its reply must not have come yet
        with self.assertRaises(Empty):
            self.kc.get_shell_msg(timeout=0.5)
        self.assertEqual(first["content"]["text"], "early\n")
        reply = self.get_non_kernel_info_reply(timeout=10)
        self.assertEqual(reply["content"]["status"], "ok")
        self.flush_channels()

    def test_display_updates_in_place(self):
        reply, outputs = self.run_cell('var h = Display.text("step 1");\nh.update("step 2");')
        self.assertEqual(reply["content"]["status"], "ok")
        shown = [m for _, m in outputs if m["msg_type"] == "display_data"]
        updated = [m for _, m in outputs if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(shown), 1)
        self.assertEqual(len(updated), 1)
        display_id = shown[0]["content"]["transient"]["display_id"]
        self.assertEqual(updated[0]["content"]["transient"]["display_id"], display_id)
        self.assertEqual(updated[0]["content"]["data"]["text/plain"], "step 2")

    def test_magic_output_and_time(self):
        reply, outputs = self.run_cell("%%time\nint t = 3;\nt * 2")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("Wall time:", self.text_of(outputs))
        results = [m for _, m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "6")

    def test_interrupt_stops_the_cell_and_keeps_state(self):
        self.run_cell("int beforeLoop = 11;")
        self.flush_channels()
        msg_id = self.kc.execute("long spins = 0;\nwhile (true) { spins++; }")
        time.sleep(1.5)
        self.km.interrupt_kernel()
        reply = self.get_non_kernel_info_reply(timeout=20)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        reply, outputs = self.run_cell("beforeLoop + 1")
        results = [m for _, m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "12")

    def test_stdin_reads_what_the_user_types(self):
        self.flush_channels()
        msg_id = self.kc.execute(
            'var typed = new BufferedReader(new InputStreamReader(System.in)).readLine();\n"got " + typed',
            allow_stdin=True)
        request = run_sync(self.kc.stdin_channel.get_msg)(timeout=20)
        self.assertEqual(request["msg_type"], "input_request")
        self.kc.input("typed text")
        reply = self.get_non_kernel_info_reply(timeout=20)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        reply, outputs = self.run_cell("typed")
        results = [m for _, m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], '"typed text"')

    def test_inspect_a_variable_and_a_magic(self):
        self.run_cell("int inspectMe = 5;")
        for code, expected in [("inspectMe", "inspectMe:int"), ("%help", "%help: List the magics")]:
            with self.subTest(code=code):
                self.kc.inspect(code, len(code))
                reply = self.get_non_kernel_info_reply(timeout=10)
                self.assertTrue(reply["content"]["found"])
                self.assertIn(expected, reply["content"]["data"]["text/plain"])

    def test_exit_asks_the_front_end_to_leave(self):
        # jupyter console sends "exit" as a cell; IPython's kernels answer with the ask_exit payload
        self.run_cell("int keptAcrossExit = 7;")
        for code in ("exit", "quit", "exit()"):
            with self.subTest(code=code):
                reply, outputs = self.run_cell(code)
                self.assertEqual(reply["content"]["status"], "ok", outputs)
                self.assertEqual(reply["content"].get("payload"), [{"source": "ask_exit", "keepkernel": False}])
                self.assertFalse([m for _, m in outputs if m["msg_type"] == "error"], "not compiled as Java")
        reply, outputs = self.run_cell("int exit = 1; keptAcrossExit + exit")
        results = [m for _, m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "8", "Java that uses the word is Java")

    def test_system_exit_is_refused_and_the_kernel_lives(self):
        self.run_cell("int beforeExit = 20;")
        reply, _ = self.run_cell("System.exit(1);")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("is refused in a notebook cell", reply["content"]["evalue"])
        reply, outputs = self.run_cell("beforeExit + 1")
        results = [m for _, m in outputs if m["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "21")


class LocaleTests(unittest.TestCase):
    """The kernel started by Jupyter under LANG=C (issue 14): a path with non-ASCII characters still opens."""

    def test_unicode_path_under_lang_c(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = os.path.join(tmp, "模型 ü")
            os.mkdir(folder)
            env = dict(os.environ, LANG="C", LC_ALL="C")
            km, kc = start_new_kernel(kernel_name="jmlc", env=env, startup_timeout=60)
            outputs = []
            try:
                reply = kc.execute_interactive('java.nio.file.Files.isDirectory(java.nio.file.Path.of("%s"))' % folder,
                                               timeout=60, output_hook=outputs.append)
                self.assertEqual(reply["content"]["status"], "ok", reply["content"])
                results = [m for m in outputs if m["msg_type"] == "execute_result"]
                self.assertEqual(results[0]["content"]["data"]["text/plain"], "true")
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
