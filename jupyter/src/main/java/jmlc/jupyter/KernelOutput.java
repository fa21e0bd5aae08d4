package jmlc.jupyter;

import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Output;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

/**
 * {@link Output} onto Jupyter: text as stream messages, bundles as display_data and
 * update_display_data, all sent as they come. Outside a running cell there is nowhere to send to,
 * and output is dropped.
 */
final class KernelOutput implements Output {

    private final KernelIO io;

    KernelOutput(KernelIO io) {
        this.io = io;
    }

    @Override
    public void stdout(String text) {
        io.out.print(text);
        io.out.flush();
    }

    @Override
    public void stderr(String text) {
        io.err.print(text);
        io.err.flush();
    }

    @Override
    public void display(MimeBundle bundle, String displayId) {
        io.out.flush();
        io.err.flush();
        DisplayData data = toDisplayData(bundle);
        if (displayId != null) data.setDisplayId(displayId);
        io.display.display(data);
    }

    @Override
    public void updateDisplay(String displayId, MimeBundle bundle) {
        io.display.updateDisplay(displayId, toDisplayData(bundle));
    }

    static DisplayData toDisplayData(MimeBundle bundle) {
        var data = new DisplayData();
        bundle.data().forEach(data::putData);
        bundle.metadata().forEach(data::putMetaData);
        return data;
    }
}
