package jmlc.compiler.schedule;

import jmlc.compiler.ir.Node;

import java.util.List;
import java.util.Optional;

/**
 * Turns one graph node into kernel launches for a target, or declines because the node is not
 * its kind or the target lacks what the schedule needs (a capability, enough shared memory).
 * Rules are tried in the order {@code jmlc.compiler.build.Scheduler.RULES} lists them; the first
 * that matches wins. A rule declares its knobs (tiles, threads, vector width, unroll, split) as a
 * {@link KnobSpace} per kernel signature and takes their values from {@link ScheduleContext#choose}:
 * its defaults for the node and target, overridden by the tuning database. A knob value the
 * rule cannot use is an error ({@link InvalidKnobException}), never a reason to decline.
 */
public interface ScheduleRule {

    String name();

    Optional<List<KernelCall>> apply(Node node, ScheduleContext ctx);
}
