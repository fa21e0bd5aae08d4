package jmlc.jupyter;

/**
 * Classes whose static initialisers take a while and fail when interrupted, as Tablesaw's does
 * (a ClassGraph scan): an interrupt during one leaves the class unusable for the JVM's life. One
 * class per test, since a class is initialised once per JVM. Public: cells name them.
 */
public final class ClassInitFixtures {
    private ClassInitFixtures() {}

    /** Set once a cell has started initialising {@link ForJava}. */
    public static volatile boolean javaStarted;

    /** What the Java cell runs: notes that it started, then initialises {@link ForJava}. */
    public static int touchForJava() {
        javaStarted = true;
        return ForJava.touch();
    }

    static void slowInit(String name) {
        try {
            Thread.sleep(700);
        } catch (InterruptedException e) {
            throw new IllegalStateException(name + ": initialisation interrupted", e);
        }
    }

    /** Initialised by a Java cell. */
    public static final class ForJava {
        static {
            slowInit("ForJava");
        }

        public static int touch() {
            return 42;
        }
    }

    /** Initialised by a magic. */
    public static final class ForMagic {
        static {
            slowInit("ForMagic");
        }

        public static int touch() {
            return 43;
        }
    }
}
