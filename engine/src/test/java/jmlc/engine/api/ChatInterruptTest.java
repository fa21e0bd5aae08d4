package jmlc.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The notebook's stop button during a reply: the magic cancels the generation and interrupts the
 * thread running it (so that tokenizing and loading stop too). The reply so far must stay in the
 * conversation: generation ends at the cancel, and nothing it runs afterwards may fail on the interrupt.
 */
class ChatInterruptTest {

    @Test
    void anInterruptedReplyKeepsWhatItGenerated() throws Exception {
        try (ChatModule cm = ChatModule.load("synthetic:tiny", LoadOptions.defaults().device("cpu"))) {
            cm.setMaxReplyTokens(100_000);
            CountDownLatch streaming = new CountDownLatch(10);
            AtomicInteger pieces = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread worker = new Thread(() -> {
                try {
                    cm.chat("Tell me a long story.", piece -> {
                        pieces.incrementAndGet();
                        streaming.countDown();
                    });
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            worker.start();
            assertTrue(streaming.await(60, TimeUnit.SECONDS), "the reply streams");
            cm.cancel();
            worker.interrupt();
            worker.join(20_000);
            assertNull(failure.get(), "the reply ended without an error");
            assertEquals(2, cm.conversation().size(), "the message and the reply so far");
        }
    }
}
