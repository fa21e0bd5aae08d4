"""The LLM magics over Jupyter's messaging protocol, as a notebook front end sees them: %load's live
progress display, %%chat streaming, the stop button during a reply, and errors that keep the session.

Run by run-notebooks.sh with Debian's /usr/bin/python3, after the kernel spec "jmlc" is installed.
"""
import time
import unittest

from jupyter_client.manager import start_new_kernel
from jupyter_client.utils import run_sync


class LlmMagicsOverTheProtocol(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name="jmlc", startup_timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)

    def collect(self, msg_id, timeout=120):
        """The cell's reply and iopub messages (but status and execute_input), in order."""
        outputs = []
        while True:
            msg = run_sync(self.kc.iopub_channel.get_msg)(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg["msg_type"] not in ("status", "execute_input"):
                outputs.append(msg)
        while True:  # skip replies to earlier requests (start-up's kernel_info)
            reply = self.kc.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply, outputs

    def run_cell(self, code, timeout=120):
        return self.collect(self.kc.execute(code), timeout)

    def result(self, code):
        reply, outputs = self.run_cell(code)
        self.assertEqual(reply["content"]["status"], "ok", outputs)
        return [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"][0]

    def test_1_load_shows_live_progress_then_a_summary(self):
        reply, outputs = self.run_cell("%load synthetic:tiny --max-context 512")
        self.assertEqual(reply["content"]["status"], "ok")
        shown = [m for m in outputs if m["msg_type"] == "display_data"]
        updates = [m for m in outputs if m["msg_type"] == "update_display_data"]
        self.assertTrue(shown and updates, [m["msg_type"] for m in outputs])
        display_id = shown[0]["content"]["transient"]["display_id"]
        self.assertTrue(all(u["content"]["transient"]["display_id"] == display_id for u in updates))
        self.assertIn("making random weights", updates[-1]["content"]["data"]["text/plain"])
        self.assertIn("loaded (", updates[-1]["content"]["data"]["text/plain"])
        summary = [m for m in outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]
        self.assertIn("Loaded synthetic:tiny", summary["text/plain"])
        self.assertIn("<table", summary["text/html"])

    def test_2_chat_streams_piece_by_piece(self):
        reply, outputs = self.run_cell("%%chat --max-tokens 40 --temperature 0\nHello!")
        self.assertEqual(reply["content"]["status"], "ok")
        streams = [m["content"]["text"] for m in outputs if m["msg_type"] == "stream"]
        self.assertGreater(len(streams), 5, "one stream message per piece of the reply")
        self.assertEqual(self.result("Jmlc.model().conversation().size()"), "2")

    def test_3_stop_button_ends_the_reply_and_keeps_the_session(self):
        self.assertEqual(self.result("Jmlc.model().resetChat(); Jmlc.model().conversation().size()"), "0")
        msg_id = self.kc.execute("%%chat --max-tokens 100000\nTell me a long story.")
        pieces = 0
        while pieces < 10:  # the reply is streaming
            msg = run_sync(self.kc.iopub_channel.get_msg)(timeout=60)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                pieces += 1
        self.km.interrupt_kernel()
        started = time.time()
        reply, outputs = self.collect(msg_id, timeout=60)
        self.assertLess(time.time() - started, 20, "the reply stops soon after the interrupt")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        text = "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream")
        self.assertIn("[stopped: the reply so far stays in the conversation]", text)
        self.assertEqual(self.result("Jmlc.model().conversation().size()"), "2")
        reply, _ = self.run_cell("%%chat --max-tokens 8\nStill there?")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(self.result("Jmlc.model().conversation().size()"), "4")

    def test_4_errors_are_one_message_and_the_model_stays(self):
        for code, words in [
            ("%load synthetic:nope", "unknown synthetic model 'synthetic:nope'"),
            ("%load /no/such/dir", "model '/no/such/dir' not found"),
            ("%load synthetic:tiny --quant q5", "unknown quantization 'q5'"),
            ("%bench --gen zero", "Invalid value for option '--gen': 'zero' is not an int"),
            ("%source no_such_kernel", "no kernel named 'no_such_kernel'"),
            ("%ir NoSuchPhase", "no phase named 'NoSuchPhase'"),
        ]:
            with self.subTest(code=code):
                reply, outputs = self.run_cell(code)
                self.assertEqual(reply["content"]["status"], "error")
                self.assertEqual(reply["content"]["ename"], "MagicError")
                errors = [m for m in outputs if m["msg_type"] == "error"]
                self.assertEqual(len(errors), 1)
                self.assertIn(words, "\n".join(errors[0]["content"]["traceback"]))
                self.assertNotIn("\tat ", "\n".join(errors[0]["content"]["traceback"]), "no stack trace")
        self.assertEqual(self.result("Jmlc.model().model().spec()"), '"synthetic:tiny"')

    def test_5_a_model_too_large_for_the_host_is_refused_and_the_kernel_lives(self):
        # synthetic:llama-2-13b in q0f32 needs about 59 GB; a smaller machine's kernel used to be killed by the OOM killer
        with open("/proc/meminfo") as f:
            available = next(int(l.split()[1]) * 1024 for l in f if l.startswith("MemAvailable:"))
        if available >= 58e9:
            self.skipTest(f"this machine has room for it: {available / 1e9:.0f} GB available")
        started = time.time()
        reply, outputs = self.run_cell("%load synthetic:llama-2-13b --quant q0f32 --device cpu")
        self.assertLess(time.time() - started, 20, "refused before making any weights")
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "MagicError")
        message = "\n".join(next(m for m in outputs if m["msg_type"] == "error")["content"]["traceback"])
        self.assertIn("synthetic:llama-2-13b (q0f32) needs about 58.8 GB of memory on the host", message)
        self.assertIn("The previously loaded model stays loaded.", message)
        self.assertEqual(self.result("Jmlc.model().model().spec()"), '"synthetic:tiny"', "the kernel and its model are still there")


if __name__ == "__main__":
    unittest.main(verbosity=2)
