package jmlc.jupyter;

import jmlc.magics.core.MimeBundle;
import jmlc.magics.core.Output;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@link Output} onto Jupyter: text as stream messages, bundles as display_data and
 * update_display_data, all sent as they come. Outside a running cell there is nowhere to send to,
 * and output is dropped.
 *
 * <p>Messages are sent from a thread of their own ("jmlc-output"), which nothing interrupts:
 * ZeroMQ fails a send from an interrupted thread ("Errno 4: Interrupted function"), and the stop
 * button interrupts the threads that print, such as a magic's engine worker streaming a reply
 * (interrupted so that loading and tokenizing stop). The caller waits until its message is sent,
 * so output keeps its order.
 */
final class KernelOutput implements Output {

    private final KernelIO io;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jmlc-output");
        t.setDaemon(true);
        return t;
    });

    KernelOutput(KernelIO io) {
        this.io = io;
    }

    @Override
    public void stdout(String text) {
        send(() -> {
            io.out.print(text);
            io.out.flush();
        });
    }

    @Override
    public void stderr(String text) {
        send(() -> {
            io.err.print(text);
            io.err.flush();
        });
    }

    @Override
    public void display(MimeBundle bundle, String displayId) {
        send(() -> {
            io.out.flush();
            io.err.flush();
            DisplayData data = toDisplayData(bundle);
            if (displayId != null) data.setDisplayId(displayId);
            io.display.display(data);
        });
    }

    @Override
    public void updateDisplay(String displayId, MimeBundle bundle) {
        send(() -> io.display.updateDisplay(displayId, toDisplayData(bundle)));
    }

    /** Runs {@code message} on the sender thread and waits for it, through interrupts (which stay set for the caller). */
    private void send(Runnable message) {
        Future<?> sent = sender.submit(message);
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    sent.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) throw r;
                    if (e.getCause() instanceof Error err) throw err;
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    static DisplayData toDisplayData(MimeBundle bundle) {
        var data = new DisplayData();
        bundle.data().forEach(data::putData);
        bundle.metadata().forEach(data::putMetaData);
        return data;
    }
}
