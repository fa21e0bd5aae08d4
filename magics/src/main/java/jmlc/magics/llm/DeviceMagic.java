package jmlc.magics.llm;

import jmlc.engine.api.Backends;
import jmlc.engine.runtime.DeviceInfo;
import jmlc.magics.core.Html;
import jmlc.magics.core.Magic;
import jmlc.magics.core.MagicArgs;
import jmlc.magics.core.MagicContext;
import jmlc.magics.core.MagicException;
import jmlc.magics.core.MimeBundle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** {@code %device}: the devices found; {@code %device ID}: the device later {@code %load}s use. */
public final class DeviceMagic implements Magic {

    @Command(name = "device", description = {
            "Lists the devices jmlc found (GPUs first, then the CPU), or chooses the one later %%load commands use.",
            "The model loaded now stays where it is: %%reload moves it."})
    static final class Args {
        @Parameters(arity = "0..1", paramLabel = "ID", description = "a device id from the list (rocm:0, cuda:0, vulkan:0, cpu, cpu:ref), or auto")
        String id;
    }

    @Override
    public String name() {
        return "device";
    }

    @Override
    public String summary() {
        return "List the devices found, or %device ID to choose the one %load uses.";
    }

    @Override
    public String help() {
        return MagicArgs.usage(name(), new Args());
    }

    @Override
    public Object run(MagicContext ctx) {
        Args args = ctx.parse(new Args());
        List<DeviceInfo> devices = Backends.detect();
        if (args.id == null) return table(devices, Llm.device(ctx.session()));
        String id = args.id.strip();
        if (!id.equals("auto")) {
            try {
                Backends.resolve(id);
            } catch (IllegalArgumentException e) {
                throw new MagicException("%device: " + e.getMessage());
            }
        }
        ctx.session().put(Llm.DEVICE, id);
        String loaded = ctx.session().get(Llm.MODEL).map(cm -> cm.model().runner().device().id()).orElse(null);
        ctx.println("Later %load commands use " + (id.equals("auto") ? "auto (the first device found: " + devices.getFirst().id() + ")" : id) + "."
                + (loaded != null && !loaded.equals(id) ? " The model loaded now stays on " + loaded + ": %reload --device " + id + " moves it." : ""));
        return null;
    }

    static MimeBundle table(List<DeviceInfo> devices, String chosen) {
        var rows = new ArrayList<List<String>>();
        var text = new StringBuilder();
        String auto = devices.isEmpty() ? "" : devices.getFirst().id();
        for (DeviceInfo d : devices) {
            String mark = d.id().equals(chosen) || (chosen.equals("auto") && d.id().equals(auto)) ? "*" : "";
            String props = properties(d.properties());
            rows.add(List.of(mark, d.id(), d.backend(), d.name(), props));
            text.append(String.format("%1s %-8s %-6s %s%n      %s%n", mark, d.id(), d.backend(), d.name(), props));
        }
        String note = "*: the device %load uses (" + (chosen.equals("auto") ? "auto: the first found" : "chosen with %device") + ")";
        for (var b : Backends.all()) // why a backend found nothing: no driver, no device, a device only used when named
            if (b.detect().isEmpty() && !b.unavailable().isEmpty()) note += "\nno " + b.name() + " device: " + b.unavailable();
        return MimeBundle.html(Html.table(List.of("", "id", "backend", "name", "properties"), rows) + "<p>" + Html.escape(note).replace("\n", "<br>") + "</p>")
                .withText(text.append(note).toString());
    }

    private static String properties(Map<String, String> p) {
        return p.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).collect(Collectors.joining(", "));
    }
}
