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
                + "that finds none, why (no driver, no device, a driver too old). --device auto picks the first; name another with --device ID."};
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
