package jmlc.compiler.schedule;

import jmlc.compiler.kernel.Kernel;

import java.util.List;

/** One launch: a kernel and what each of its buffers is bound to (same order as {@code kernel.buffers()}). */
public record KernelCall(Kernel kernel, List<Arg> args) {

    public KernelCall {
        args = List.copyOf(args);
        if (args.size() != kernel.buffers().size())
            throw new IllegalArgumentException("kernel " + kernel.name() + " has " + kernel.buffers().size() + " buffers, bound " + args.size());
    }
}
