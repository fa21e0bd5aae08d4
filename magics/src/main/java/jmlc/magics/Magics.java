package jmlc.magics;

import jmlc.magics.builtin.ClasspathMagic;
import jmlc.magics.builtin.HelpMagic;
import jmlc.magics.builtin.SessionMagic;
import jmlc.magics.builtin.TimeMagic;

import java.util.List;

/** Every magic the jmlc kernel offers, in the order {@code %help} lists them. Add new magics here. */
public final class Magics {

    private Magics() {
    }

    public static List<Magic> all() {
        return List.of(
                new HelpMagic(),
                new TimeMagic(),
                new ClasspathMagic(),
                new SessionMagic());
    }

    public static MagicRegistry registry() {
        return new MagicRegistry(all());
    }
}
