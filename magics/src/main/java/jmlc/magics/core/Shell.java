package jmlc.magics.core;

import java.util.List;

/**
 * What the kernel offers magics beyond output: running code as a cell would, and the classpath of
 * the Java code cells compile against. Implemented by the kernel over JShell.
 */
public interface Shell {

    /**
     * Runs text as a notebook cell (Java snippets and line magics) and returns what its last part
     * produced: a {@link JavaValue} (the object, JShell's text for it, its type) for a Java
     * expression, a magic's result, or null. Returning it from a magic shows it as a cell would.
     * Errors come back as exceptions, already readable for the user: let them pass.
     */
    Object run(String cell) throws Exception;

    /** The classpath cells compile and run against, in order. */
    List<String> classpath();

    /** Adds a jar or class folder for the following cells. */
    void addToClasspath(String path);
}
