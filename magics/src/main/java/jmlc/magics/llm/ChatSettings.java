package jmlc.magics.llm;

import jmlc.engine.api.ChatModule;
import jmlc.engine.sampling.SamplingParams;

/**
 * How {@code %%chat} replies: sampling, the longest reply, and the system prompt. Set with
 * {@code %chat --temperature 0 --max-tokens 64 ...}; kept in the session and applied to each
 * model {@code %load} loads.
 *
 * @param maxTokens    the longest reply; 0 for the model's default (1024 tokens, 64 for synthetic models)
 * @param systemPrompt null for none
 */
public record ChatSettings(SamplingParams sampling, int maxTokens, String systemPrompt) {

    /** MLC chat's sampling defaults, the model's default reply length, no system prompt. */
    public static ChatSettings defaults() {
        return new ChatSettings(SamplingParams.defaults(), 0, null);
    }

    public ChatSettings withSampling(SamplingParams s) {
        return new ChatSettings(s, maxTokens, systemPrompt);
    }

    public ChatSettings withMaxTokens(int n) {
        if (n <= 0) throw new IllegalArgumentException("--max-tokens must be positive, found " + n);
        return new ChatSettings(sampling, n, systemPrompt);
    }

    public ChatSettings withSystemPrompt(String prompt) {
        return new ChatSettings(sampling, maxTokens, prompt == null || prompt.isBlank() ? null : prompt);
    }

    /** Makes {@code cm} reply this way. */
    public void applyTo(ChatModule cm) {
        cm.setSampling(sampling);
        cm.setMaxReplyTokens(maxTokens);
        cm.setSystemPrompt(systemPrompt);
    }

    /** One line: {@code temperature 0.7, top-p 0.95, top-k off, repetition penalty 1, seed 42, max 1024 tokens}. */
    public String describe() {
        SamplingParams s = sampling;
        return (s.greedy() ? "greedy (temperature 0)" : "temperature " + num(s.temperature()))
                + ", top-p " + num(s.topP()) + ", top-k " + (s.topK() == 0 ? "off" : s.topK())
                + ", repetition penalty " + num(s.repetitionPenalty()) + ", seed " + s.seed()
                + (maxTokens > 0 ? ", at most " + maxTokens + " tokens" : ", replies up to the model's default length (1024 tokens; 64 for synthetic models)")
                + (systemPrompt == null ? ", no system prompt" : ", system prompt \"" + systemPrompt + "\"");
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
