package jmlc.compiler.pass;

import jmlc.compiler.ir.Graph;

/** One graph-to-graph transformation; passes run in the order {@link Pipeline} lists them. */
public interface Pass {

    /** The name users see in dumps and use to switch the pass off ({@code FuseAddRmsNorm}). */
    default String name() {
        return getClass().getSimpleName();
    }

    Graph apply(Graph g);
}
