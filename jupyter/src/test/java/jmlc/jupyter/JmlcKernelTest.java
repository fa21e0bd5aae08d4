package jmlc.jupyter;

import jmlc.magics.Jmlc;
import jmlc.magics.core.Output;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel's answers to complete, inspect and is_complete, asked directly (no Jupyter). */
class JmlcKernelTest {

    static JmlcKernel kernel;
    static Output previous;

    @BeforeAll
    static void start() {
        previous = Jmlc.output();
        kernel = JmlcKernel.create();
    }

    @AfterAll
    static void stop() {
        kernel.onShutdown(false);
        Jmlc.setOutput(previous);
    }

    @Test
    void completesMagicNamesAndHelpArguments() {
        var names = kernel.complete("int x = 1;\n%he", 14);
        assertEquals(List.of("%help"), names.getReplacements());
        assertEquals(11, names.getSourceStart());
        var cellMagic = kernel.complete("%%ti", 4);
        assertEquals(List.of("%%time"), cellMagic.getReplacements());
        var argument = kernel.complete("%help cl", 8);
        assertEquals(List.of("classpath"), argument.getReplacements());
        assertEquals(6, argument.getSourceStart());
        assertNull(kernel.complete("%classpath ad", 13), "other magics' arguments are not completed");
    }

    @Test
    void completesJavaAroundMagicLines() {
        var java = kernel.complete("%time 1\nJmlc.sess", 17);
        assertEquals(List.of("session()"), java.getReplacements());
        assertEquals(13, java.getSourceStart());
        var body = kernel.complete("%%time\nJmlc.sess", 16);
        assertEquals(List.of("session()"), body.getReplacements());
    }

    @Test
    void inspectsMagicsAndJava() {
        String magic = (String) kernel.inspect("%time x", 2, false).getData(
                org.dflib.jjava.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN);
        assertTrue(magic.startsWith("%time: Time a statement"), magic);
        String java = (String) kernel.inspect("String.valueOf", 14, false).getData(
                org.dflib.jjava.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN);
        assertTrue(java.contains("String String.valueOf("), java);
        assertNull(kernel.inspect("%nosuch", 3, false));
    }

    @Test
    void judgesCompleteness() {
        assertEquals("complete", kernel.isComplete("%help"));
        assertEquals("complete", kernel.isComplete("%%time\nfor (;;) {"));
        assertEquals("    ", kernel.isComplete("%time 1\nfor (int i = 0; i < 2; i++) {"));
        assertEquals("invalid", kernel.isComplete("int a = 1;\n%%time\n"));
    }
}
