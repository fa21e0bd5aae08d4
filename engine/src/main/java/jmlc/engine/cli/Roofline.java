package jmlc.engine.cli;

import jmlc.compiler.ir.Graph;
import jmlc.compiler.ir.Op;
import jmlc.compiler.ir.Value;
import jmlc.compiler.schedule.BufferLayout;
import jmlc.engine.model.CompiledModel;
import jmlc.engine.model.ModelWeights;

/**
 * The memory-bandwidth roofline of decoding (DESIGN.md, Benchmarks): a decode step reads every
 * weight once, except the embedding table, of which it reads one row, and the KV cache up to its
 * position; so at best tok/s = bandwidth / bytes per token.
 *
 * @param weightBytes        all weights as stored (what the runner holds)
 * @param embeddingBytes     the embedding table, when only embedding lookups read it (0 when the LM head shares it)
 * @param kvBytesPerPosition K and V of one position, all layers, as the cache stores them
 */
record Roofline(long weightBytes, long embeddingBytes, long kvBytesPerPosition) {

    static Roofline of(CompiledModel model, long weightBytes) {
        Graph g = model.graph();
        long embedding = 0;
        for (Value p : g.params()) {
            var users = g.users(p);
            if (!users.isEmpty() && users.stream().allMatch(n -> n.op() instanceof Op.Embed)) embedding += ModelWeights.bytesOf(p.type());
        }
        long kv = 0;
        for (Value s : g.states()) kv += BufferLayout.stateBytes(s) / model.maxContext(); // (kv_heads, ctx, head_dim) per layer, K and V; an int8 cache's scales too
        return new Roofline(weightBytes, embedding, kv);
    }

    /** Bytes a decode step at {@code position} (cache entries read, on average) must read. */
    double bytesPerToken(double position) {
        return weightBytes - embeddingBytes + kvBytesPerPosition * position;
    }

    /** The fastest decode {@code bytesPerSecond} allows. */
    double tokensPerSecond(double bytesPerSecond, double position) {
        return bytesPerSecond / bytesPerToken(position);
    }

    /**
     * Cache entries a decode step reads, averaged over a generation of {@code gen} tokens after a
     * prompt of {@code prompt}: steps run at positions prompt .. prompt+gen-2 and read pos+1 entries.
     */
    static double averagePosition(int prompt, int gen) {
        return prompt + gen / 2.0;
    }
}
