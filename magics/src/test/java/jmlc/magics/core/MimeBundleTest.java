package jmlc.magics.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What bundles hold: SVG as an element a notebook and nbconvert's HTML export take. */
class MimeBundleTest {

    @Test
    void svgLosesItsXmlDeclarationAndDoctype() {
        String file = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n"
                + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"5\" height=\"5\"/></svg>";
        String element = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><rect width=\"5\" height=\"5\"/></svg>";
        assertEquals(element, MimeBundle.svg(file).data().get(MimeBundle.SVG));
        assertEquals(element, MimeBundle.png(new byte[] {1}).with(MimeBundle.SVG, file).data().get(MimeBundle.SVG), "with() too");
        assertEquals(element, MimeBundle.svg(element).data().get(MimeBundle.SVG), "an element stays as it is");
        String text = "<!-- no svg element -->";
        assertEquals(text, MimeBundle.svg(text).data().get(MimeBundle.SVG));
    }
}
