package jmlc.engine.cli;

import jmlc.engine.api.Backends;
import jmlc.engine.runtime.Backend;
import jmlc.engine.runtime.DeviceInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code jmlc devices}: what detection finds, in detection order; the first is what {@code --device auto}
 * picks. A backend that finds nothing says why (no driver, no device, a driver too old).
 */
@Command(name = "devices", mixinStandardHelpOptions = true, header = "List the devices found and their properties.")
final class DevicesCommand implements Callable<Integer> {
    /** What the help says about AMD GPUs: what has run where, and what has not. */
    static final String AMD = "AMD GPUs (rocm:N) run through ROCm's HIP runtime and hiprtc (libamdhip64; JMLC_HIP_LIBRARY names another library). "
            + "Said plainly: nothing has run on AMD hardware yet. What is proven without one: every generated HIP kernel of "
            + "Llama-2-7B, Llama-3-8B and Qwen2 in every quantization compiles to a code object for gfx1100 (RX 7900 XTX), "
            + "gfx1033 (Steam Deck), gfx1030, gfx90a (MI250) and gfx942 (MI300X) with clang 19, the disassembly shows the "
            + "dot2/packed-f16, cross-lane and WMMA/MFMA instructions the schedules mean, and the kernel simulator runs the "
            + "HIP programs at wavefront 32 and 64 against the reference; the HIP runtime itself is checked on an NVIDIA GPU "
            + "through jmlc's HIP-on-CUDA test library, with CUDA C kernels (bench/rocm-on-cuda.sh; bench/RESULTS.md says "
            + "whether it passed). An AMD GPU owner runs bench/rocm-suite.sh.";

    /** The help's description, from the backends registered (Backends.all()), so it promises no backend jmlc lacks. */
    static String[] description() {
        String order = String.join(", then ", Backends.all().stream().map(b -> switch (b.name()) {
            case "cpu" -> "the CPU";
            case "cuda" -> "CUDA";
            case "rocm" -> "ROCm";
            case "vulkan" -> "Vulkan";
            default -> b.name();
        }).toList());
        return new String[] {"List the devices found, in detection order (" + order + "), with their properties; for a backend "
                + "that finds none, why (no driver, no device, a driver too old). --device auto picks the first; name another with --device ID "
                + "(rocm:0, cuda:0, vulkan:0, cpu).",
                "",
                AMD};
    }

    private final CliContext ctx;

    @Option(names = "--json", description = "Print the devices as a JSON array.")
    boolean json;

    DevicesCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() throws Exception {
        List<DeviceInfo> devices = Backends.detect();
        if (json) {
            List<Map<String, Object>> list = devices.stream().map(d -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", d.id());
                m.put("backend", d.backend());
                m.put("name", d.name());
                m.put("properties", d.properties());
                return m;
            }).toList();
            ctx.out.println(ctx.json.writeValueAsString(list));
        } else {
            int w = devices.stream().mapToInt(d -> d.id().length()).max().orElse(0) + 2;
            for (int i = 0; i < devices.size(); i++) {
                DeviceInfo d = devices.get(i);
                ctx.out.println(pad(d.id(), w) + d.name() + (i == 0 ? "   (default: --device auto)" : ""));
                d.properties().forEach((k, v) -> ctx.out.println(pad("", w) + "  " + k + ": " + v));
            }
            if (devices.isEmpty()) ctx.out.println("no devices found");
            for (Backend b : Backends.all()) // why a backend found nothing: no driver, no device, a device only used when named
                if (b.detect().isEmpty() && !b.unavailable().isEmpty()) ctx.out.println("no " + b.name() + " device: " + b.unavailable());
        }
        ctx.out.flush();
        return 0;
    }

    private static String pad(String s, int w) {
        return s + " ".repeat(Math.max(1, w - s.length()));
    }
}
