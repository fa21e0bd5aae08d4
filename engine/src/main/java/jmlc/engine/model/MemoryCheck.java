package jmlc.engine.model;

import jmlc.compiler.ir.Value;
import jmlc.compiler.schedule.BufferLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Before a model loads: the memory it will take on the host or a device, against what is free, so
 * a model too large is refused at once with both figures instead of being killed by the kernel's
 * OOM killer minutes later (the host) or failing half loaded (a device). {@code JMLC_MEMORY_CHECK=off}
 * skips the check (say, where swap makes room the figures do not count).
 */
public final class MemoryCheck {
    private MemoryCheck() {}

    /** Bytes a model needs in one place, by part: its weights, its KV cache, its activations and scratch buffers. */
    public record Need(long weights, long kvCache, long activations) {
        public long total() {
            return weights + kvCache + activations;
        }

        String parts() {
            return "weights " + gb(weights) + ", KV cache " + gb(kvCache) + ", activations " + gb(activations);
        }
    }

    /** Free bytes and where the figure comes from ({@code MemAvailable in /proc/meminfo}, a cgroup's limit, a device's driver). */
    public record Available(long bytes, String source) {}

    /** What {@code model} needs where it runs: {@code weightBytes} of weights there (0 where they are made elsewhere), its KV caches, its activations. */
    public static Need need(CompiledModel model, long weightBytes) {
        long kv = 0;
        for (Value s : model.graph().states()) kv += BufferLayout.stateBytes(s);
        return new Need(weightBytes, kv, model.pipeline().memory().totalBytes());
    }

    /** What makes a model smaller: a 4-bit quantization (with its size), a smaller model, a shorter context. */
    public static String advice(CompiledModel model) {
        String quant = model.quant().scheme() != null && model.quant().scheme().bits() == 4 ? ""
                : String.format(Locale.ROOT, "a 4-bit --quant (q4f16_1: about %s of weights), ", gb((long) (model.config().parameterCount() * (0.5 + 2.0 / 32))));
        return "use " + quant + "a smaller model, or a smaller --max-context (now " + model.maxContext() + ")";
    }

    /** False when {@code JMLC_MEMORY_CHECK=off}. */
    public static boolean enabled() {
        String v = System.getenv("JMLC_MEMORY_CHECK");
        return v == null || !v.trim().equalsIgnoreCase("off");
    }

    /**
     * Refuses to load when {@code need} exceeds {@code available}: the message names what is loading
     * ({@code what}), where ({@code where}: "the host", "cuda:0"), the figures, and what helps.
     */
    public static void require(String what, String where, Need need, Available available, String advice) {
        if (need.total() <= available.bytes()) return;
        throw new NotEnoughMemoryException(String.format(Locale.ROOT,
                "%s needs about %s of memory on %s (%s) but %s is free (%s): %s; or set JMLC_MEMORY_CHECK=off to load anyway",
                what, gb(need.total()), where, need.parts(), gb(available.bytes()), available.source(), advice));
    }

    /** The host's free memory: MemAvailable, or less where a cgroup limits this process; empty where neither can be read. */
    public static Optional<Available> host() {
        Optional<Available> free = meminfo();
        Optional<Available> cgroup = cgroup();
        if (cgroup.isPresent() && (free.isEmpty() || cgroup.get().bytes() < free.get().bytes())) return cgroup;
        return free;
    }

    private static Optional<Available> meminfo() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo")))
                if (line.startsWith("MemAvailable:"))
                    return Optional.of(new Available(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024, "MemAvailable in /proc/meminfo"));
        } catch (IOException | RuntimeException e) {
            // not Linux, or an unreadable /proc: no figure, no check
        }
        return Optional.empty();
    }

    /** The memory cgroup's limit less its usage (v2, then v1); empty without a limit. */
    private static Optional<Available> cgroup() {
        String[][] files = {{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
                {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"}};
        for (String[] f : files) {
            try {
                String limit = Files.readString(Path.of(f[0])).trim();
                if (limit.equals("max")) return Optional.empty();
                long max = Long.parseLong(limit), used = Long.parseLong(Files.readString(Path.of(f[1])).trim());
                if (max >= 1L << 60) return Optional.empty(); // "no limit" in cgroup v1
                return Optional.of(new Available(Math.max(0, max - used), "the memory limit of this process's cgroup, " + f[0]));
            } catch (IOException | RuntimeException e) {
                // try the other version
            }
        }
        return Optional.empty();
    }

    /** 52.1 GB, 0.3 GB: decimal, as memory sizes are sold. */
    static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    /** A model refused for want of memory. */
    public static final class NotEnoughMemoryException extends IllegalStateException {
        NotEnoughMemoryException(String message) {
            super(message);
        }
    }
}
