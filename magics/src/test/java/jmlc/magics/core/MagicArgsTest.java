package jmlc.magics.core;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MagicArgsTest {

    @Command(name = "load", description = "Loads a model (100%% synthetic).")
    static final class LoadArgs {
        @Parameters(paramLabel = "MODEL", description = "model directory or synthetic:NAME")
        String model;

        @Option(names = "--quant", defaultValue = "q4f16_1", description = "quantization")
        String quant;

        @Option(names = "--layers", description = "layers to keep")
        int layers;
    }

    @Test
    void splitsLikeAShell() {
        assertEquals(List.of("a", "b c", "d\"e", "f g", "h'i"),
                MagicArgs.split(" a 'b c' \"d\\\"e\"  f\\ g h\"'\"i "));
        assertEquals(List.of("", "x"), MagicArgs.split("'' x"));
        assertEquals(List.of(), MagicArgs.split("   "));
    }

    @Test
    void unclosedQuoteIsAMagicError() {
        var e = assertThrows(MagicException.class, () -> MagicArgs.parse("load", "'abc", new LoadArgs()));
        assertTrue(e.getMessage().contains("unclosed"), e.getMessage());
    }

    @Test
    void parsesOptionsAndParameters() {
        LoadArgs a = MagicArgs.parse("load", "synthetic:llama-2-7b --layers 2", new LoadArgs());
        assertEquals("synthetic:llama-2-7b", a.model);
        assertEquals("q4f16_1", a.quant);
        assertEquals(2, a.layers);
    }

    @Test
    void mistakesNameTheProblemAndShowUsage() {
        var e = assertThrows(MagicException.class, () -> MagicArgs.parse("load", "m --layers two", new LoadArgs()));
        assertTrue(e.getMessage().startsWith("%load: "), e.getMessage());
        assertTrue(e.getMessage().contains("'two'"), e.getMessage());
        assertTrue(e.getMessage().contains("Usage: %load"), e.getMessage());
        assertFalse(e instanceof MagicException.HelpRequested);

        var missing = assertThrows(MagicException.class, () -> MagicArgs.parse("load", "", new LoadArgs()));
        assertTrue(missing.getMessage().contains("MODEL"), missing.getMessage());
    }

    @Test
    void helpOptionIsAddedToEveryMagic() {
        var e = assertThrows(MagicException.HelpRequested.class, () -> MagicArgs.parse("load", "--help", new LoadArgs()));
        assertTrue(e.getMessage().contains("Usage: %load"), e.getMessage());
        assertTrue(e.getMessage().contains("100% synthetic"), e.getMessage());
        assertTrue(MagicArgs.usage("load", new LoadArgs()).contains("--quant"));
    }
}
