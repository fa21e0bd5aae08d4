package jmlc.compiler.schedule;

import jmlc.compiler.ir.Node;

import java.util.List;
import java.util.Optional;
import jmlc.compiler.build.Scheduler;

/**
 * Turns one graph node into kernel launches for a target, or declines. Rules are tried in the
 * order {@link Scheduler#RULES} lists them; the first that matches wins. Each rule's knobs
 * (tiles, threads, vector width, unroll, split) come from {@link Knobs}: defaults per target,
 * overridden by the tuning database.
 */
public interface ScheduleRule {

    String name();

    Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx);
}
