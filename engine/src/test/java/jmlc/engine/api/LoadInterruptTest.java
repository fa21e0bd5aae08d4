package jmlc.engine.api;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.function.Supplier;
import jmlc.compiler.model.Architecture;
import jmlc.compiler.quant.QuantMode;
import jmlc.engine.format.Checkpoint;
import jmlc.engine.format.Checkpoints;
import jmlc.engine.format.TinyModels;
import jmlc.engine.format.gguf.GgufModelWriter;
import jmlc.engine.format.hf.HfModelWriter;
import jmlc.engine.format.tensor.TensorDType;
import jmlc.engine.model.CheckpointWeights;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each stage of a load looks at its thread's interrupt (the notebook's stop button interrupts the
 * thread of the cell or of the magic's work): a thread already interrupted gets a
 * CancellationException from each, and loses no state (issue 14).
 */
class LoadInterruptTest {
    @TempDir
    Path dir;

    private static <T> CancellationException interrupted(Supplier<T> work) {
        Thread.currentThread().interrupt();
        try {
            return assertThrows(CancellationException.class, work::get);
        } finally {
            assertTrue(Thread.interrupted(), "the interrupt stays set for the caller");
        }
    }

    @Test
    void openingAGgufFile() {
        Path f = dir.resolve("m.gguf");
        GgufModelWriter.write(f, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), GgufModelWriter.Options.of(TensorDType.Q8_0));
        CancellationException e = interrupted(() -> Checkpoints.open(f));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void openingAHuggingFaceDirectory() {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), TensorDType.F16, 2);
        interrupted(() -> Checkpoints.open(dir));
    }

    @Test
    void preparingWeights() {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), TensorDType.F16, 1);
        try (Checkpoint ck = Checkpoints.open(dir)) {
            CompiledModel m = CompiledModel.compile(ck.config(), QuantMode.Q4F16_1, 64, false, java.util.Set.of(), 16);
            CheckpointWeights w = new CheckpointWeights(ck, m.graph());
            try {
                // one param, converted row by row on pool threads: they see the caller's interrupt
                interrupted(() -> w.get(m.graph().params().getFirst()));
                interrupted(() -> w.loadAll(Progress.NONE));
            } finally {
                w.close();
            }
        }
    }

    @Test
    void theWholeLoad() {
        HfModelWriter.write(dir, TinyModels.random(TinyModels.config(Architecture.LLAMA), 1), TensorDType.F16, 1);
        interrupted(() -> ModelLoader.load(dir.toString(), LoadOptions.defaults().device("cpu"), Progress.NONE));
    }
}
