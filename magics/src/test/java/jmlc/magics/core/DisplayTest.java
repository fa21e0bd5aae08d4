package jmlc.magics.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jmlc.magics.Jmlc;

/** Display, DisplayHandle, MimeBundle and Progress against a recording output. */
class DisplayTest {

    final RecordingOutput out = new RecordingOutput();
    Output previous;

    @BeforeEach
    void install() {
        previous = Jmlc.setOutput(out);
    }

    @AfterEach
    void restore() {
        Jmlc.setOutput(previous);
    }

    @Test
    void displayShowsBundlesAndHandlesUpdateThem() {
        DisplayHandle h = Display.html("<b>1</b>");
        h.update(MimeBundle.markdown("**2**"));
        Display.display("plain");
        assertEquals(List.of(
                new RecordingOutput.Event.Shown(MimeBundle.html("<b>1</b>"), h.id()),
                new RecordingOutput.Event.Updated(h.id(), MimeBundle.markdown("**2**")),
                new RecordingOutput.Event.Shown(MimeBundle.text("plain"), out.events().get(2) instanceof RecordingOutput.Event.Shown s ? s.displayId() : null)),
                out.events());
    }

    @Test
    void bundlesFromValues() {
        Displayable d = () -> MimeBundle.svg("<svg/>");
        assertEquals(MimeBundle.svg("<svg/>"), MimeBundle.from(d));
        assertEquals(MimeBundle.text("42"), MimeBundle.from(42));
        assertEquals(MimeBundle.text("null"), MimeBundle.from(null));
        var png = MimeBundle.from(new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB));
        byte[] bytes = Base64.getDecoder().decode((String) png.data().get(MimeBundle.PNG));
        assertEquals((byte) 0x89, bytes[0]);
        assertEquals('P', bytes[1]);
        var both = MimeBundle.html("<i>x</i>").withText("x").withMetadata("isolated", true);
        assertEquals(List.of(MimeBundle.HTML, MimeBundle.TEXT), List.copyOf(both.data().keySet()));
        assertEquals(true, both.metadata().get("isolated"));
    }

    @Test
    void javaValuesShowTheirObjectsBundleElseJShellsText() {
        assertEquals(MimeBundle.text("\"abc\""), new JavaValue("abc", "\"abc\"", "String").toMimeBundle());
        assertEquals(MimeBundle.html("<p/>"), new JavaValue(MimeBundle.html("<p/>"), "MimeBundle[..]", "MimeBundle").toMimeBundle());
    }

    @Test
    void progressUpdatesInPlaceAndEndsComplete() throws Exception {
        try (Progress p = new Progress(out, "Loading <model>", 3)) {
            p.step("layer 1");
            Thread.sleep(Progress.MIN_INTERVAL_NANOS / 1_000_000 + 20);
            p.step("layer 2");
            p.step("layer 3");
        }
        var events = out.events();
        var first = assertInstanceOf(RecordingOutput.Event.Shown.class, events.getFirst());
        assertNotNull(first.displayId());
        assertTrue(first.bundle().text().startsWith("Loading <model> [---"), first.bundle().text());
        assertTrue(((String) first.bundle().data().get(MimeBundle.HTML)).contains("Loading &lt;model&gt;"));
        for (var e : events.subList(1, events.size())) {
            assertEquals(first.displayId(), assertInstanceOf(RecordingOutput.Event.Updated.class, e).displayId());
        }
        var last = (RecordingOutput.Event.Updated) events.getLast();
        assertTrue(last.bundle().text().contains("3/3"), last.bundle().text());
        assertTrue(((String) last.bundle().data().get(MimeBundle.HTML)).contains("value=\"3\" max=\"3\""));
    }

    @Test
    void progressCoalescesFastUpdates() {
        var p = new Progress(out, "fast", 1000);
        for (int i = 0; i < 999; i++) p.step("");
        assertTrue(out.events().size() < 20, "updates sent: " + out.events().size());
        p.done("finished");
        assertTrue(((RecordingOutput.Event.Updated) out.events().getLast()).bundle().text().contains("1000/1000  finished"));
        assertEquals(1000, p.completed());
    }
}
