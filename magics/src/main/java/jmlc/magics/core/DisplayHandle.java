package jmlc.magics.core;

import java.util.UUID;

/**
 * A display that can change after it is shown: a progress bar, a streamed chat reply rendered as
 * markdown, a chart redrawn as numbers come in. {@link #update} becomes Jupyter's update_display_data.
 */
public final class DisplayHandle {

    private final Output output;
    private final String id;

    private DisplayHandle(Output output, String id) {
        this.output = output;
        this.id = id;
    }

    /** Shows {@code first} and returns the handle that updates it. */
    public static DisplayHandle open(Output output, Object first) {
        var handle = new DisplayHandle(output, UUID.randomUUID().toString());
        output.display(MimeBundle.from(first), handle.id);
        return handle;
    }

    public String id() {
        return id;
    }

    /** Replaces what this display shows (any value {@link MimeBundle#from} accepts). */
    public void update(Object value) {
        output.updateDisplay(id, MimeBundle.from(value));
    }

    @Override
    public String toString() {
        return "DisplayHandle[" + id + "]";
    }
}
