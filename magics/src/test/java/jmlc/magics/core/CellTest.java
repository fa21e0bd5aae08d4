package jmlc.magics.core;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CellTest {

    @Test
    void plainJavaIsOnePart() {
        assertEquals(List.of(new Cell.Java("int x = 1;\nx + 1", 0)), Cell.parse("int x = 1;\nx + 1"));
    }

    @Test
    void lineMagicsSplitJavaAndKeepLineNumbers() {
        var parts = Cell.parse("int x = 1;\n%time x + 1\n  %help load\ny = 2;\nz");
        assertEquals(List.of(
                new Cell.Java("int x = 1;", 0),
                new Cell.LineMagic("time", "x + 1", 1),
                new Cell.LineMagic("help", "load", 2),
                new Cell.Java("y = 2;\nz", 3)), parts);
    }

    @Test
    void cellMagicTakesTheRestOfTheCell() {
        var parts = Cell.parse("\n%%time --flag\nint x = 1;\n%help\n");
        assertEquals(List.of(new Cell.CellMagic("time", "--flag", "int x = 1;\n%help\n")), parts);
    }

    @Test
    void cellMagicBelowTheFirstLineIsAnError() {
        var e = assertThrows(MagicException.class, () -> Cell.parse("int x = 1;\n%%time\nx"));
        assertTrue(e.getMessage().contains("%%time must be the first line"), e.getMessage());
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void remainderOperatorAtLineStartStaysJava() {
        assertEquals(List.of(new Cell.Java("int r = 10\n  % 3;", 0)), Cell.parse("int r = 10\n  % 3;"));
    }

    @Test
    void blankCellHasNoParts() {
        assertEquals(List.of(), Cell.parse("  \n\n"));
    }
}
