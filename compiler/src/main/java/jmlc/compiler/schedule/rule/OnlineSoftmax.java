package jmlc.compiler.schedule.rule;

import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;

import java.util.List;

import static jmlc.compiler.kernel.K.*;

/** The online softmax both attention rules keep per query: a running max, sum and weighted sum of values. */
final class OnlineSoftmax {
    private OnlineSoftmax() {}

    /**
     * Folds keys in: {@code scores} (reduced and scaled; a score of -inf weighs 0, but one at least
     * must be finite) with their {@code values} (one list of head-dim slices a key) into the running
     * max {@code m}, sum {@code l} and weighted sum {@code acc}: the new max over m and every score,
     * one rescale of l and acc, then each key's weight {@code exp(s - max)} added.
     */
    static void fold(K.Body x, Expr.Var m, Expr.Var l, List<Expr.Var> acc, List<Expr.Var> scores, List<List<Expr.Var>> values) {
        Expr mNewE = m;
        for (Expr.Var s : scores) mNewE = K.max(mNewE, s);
        Expr.Var mNew = x.let(x.fresh("mn"), mNewE);
        Expr.Var corr = x.let(x.fresh("corr"), exp(sub(m, mNew)));
        x.assign(l, mul(l, corr));
        for (Expr.Var a : acc) x.assign(a, mul(a, corr));
        for (int j = 0; j < scores.size(); j++) {
            Expr.Var p = x.let(x.fresh("p"), exp(sub(scores.get(j), mNew)));
            x.assign(l, add(l, p));
            for (int i = 0; i < acc.size(); i++) x.assign(acc.get(i), fma(p, values.get(j).get(i), acc.get(i)));
        }
        x.assign(m, mNew);
    }
}
