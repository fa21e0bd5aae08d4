package jmlc.magics.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The magics a kernel knows, by name, in the order given (the order {@code %help} lists them).
 * Built from an explicit list ({@link Magics#all()}); no scanning, no reflection.
 */
public final class MagicRegistry {

    private final Map<String, Magic> byName = new LinkedHashMap<>();

    public MagicRegistry(List<? extends Magic> magics) {
        for (Magic m : magics) {
            if (!m.name().matches("[A-Za-z_][\\w.\\-]*")) throw new IllegalArgumentException("bad magic name: " + m.name());
            if (byName.putIfAbsent(m.name(), m) != null) throw new IllegalArgumentException("two magics named " + m.name());
        }
    }

    /** A registry with these magics added after this one's (tests, or a notebook's own magics). */
    public MagicRegistry with(Magic... more) {
        var all = new ArrayList<>(byName.values());
        all.addAll(List.of(more));
        return new MagicRegistry(all);
    }

    public Optional<Magic> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public List<Magic> all() {
        return List.copyOf(byName.values());
    }

    /** How a magic is written in this form: {@code %name} or {@code %%name}. */
    public static String spelled(String name, Magic.Form form) {
        return (form == Magic.Form.CELL ? "%%" : "%") + name;
    }

    /** The magic to run for this name and form, or a {@link MagicException} saying what exists. */
    public Magic resolve(String name, Magic.Form form) {
        Magic magic = byName.get(name);
        if (magic == null) {
            throw new MagicException("Unknown magic " + spelled(name, form) + ". Known magics: " + names()
                    + ". Run %help for details.");
        }
        if (!magic.forms().contains(form)) {
            Magic.Form other = form == Magic.Form.LINE ? Magic.Form.CELL : Magic.Form.LINE;
            throw new MagicException(spelled(name, form) + " does not exist: use " + spelled(name, other)
                    + (other == Magic.Form.CELL ? " as the first line of a cell" : "") + ".");
        }
        return magic;
    }

    /** Runs one magic part of a cell. */
    public Object run(Cell.Part part, Session session, Output output, Shell shell) throws Exception {
        MagicContext ctx = switch (part) {
            case Cell.LineMagic(String name, String args, int line) ->
                    new MagicContext(name, Magic.Form.LINE, args, "", session, output, shell, this);
            case Cell.CellMagic(String name, String args, String body) ->
                    new MagicContext(name, Magic.Form.CELL, args, body, session, output, shell, this);
            case Cell.Java java -> throw new IllegalArgumentException("not a magic: " + java);
        };
        return resolve(ctx.name(), ctx.form()).run(ctx);
    }

    private String names() {
        var names = new ArrayList<String>();
        for (Magic m : byName.values()) {
            names.add(spelled(m.name(), m.forms().contains(Magic.Form.LINE) ? Magic.Form.LINE : Magic.Form.CELL));
        }
        return String.join(", ", names);
    }
}
