package jmlc.compiler.schedule.rule;

import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;

import java.util.function.IntFunction;

import static jmlc.compiler.kernel.K.*;

/**
 * The cached rows a warp of {@link AttentionDecodeRule}'s loop reads in a step: for each of its {@code keys} positions
 * the lane's {@code dpl} dims of the K row and of the V row, as f32. Rows come as {@code [2][dpl]} arrays of variables,
 * K's then V's, a step's as {@code [keys][2][dpl]}: fresh ones for a step read as it begins ({@link #let}), or
 * variables declared once and assigned a step ahead (knob {@code kv_ahead}: {@link #declare}, {@link #loadStep},
 * {@link #copy}).
 *
 * @param dim   the lane's dim {@code i} of {@code dpl} ({@link KvCacheAccess#laneDim})
 * @param words the lane's dims consecutive, read 4 a load ({@link KvCacheAccess#load4})
 */
record StepRows(KvCacheAccess k, KvCacheAccess v, Expr kvHead, int ctxLen, int hd, int dpl, int keys, boolean words, IntFunction<Expr> dim) {

    /** Position {@code t + kk}, past the split's last ({@code end - 1}) that one: it is read, and weighs nothing. */
    Expr position(Expr t, int kk, Expr end) {
        return min(add(t, c(kk)), sub(end, c(1)));
    }

    /** The rows at position {@code pos} in fresh variables of {@code b}. */
    Expr.Var[][] let(K.Body b, Expr pos) {
        Expr[][] e = read(b, pos);
        Expr.Var[][] out = new Expr.Var[2][dpl];
        for (int i = 0; i < dpl; i++) {
            out[0][i] = b.let(b.fresh("k"), e[0][i]);
            out[1][i] = b.let(b.fresh("v"), e[1][i]);
        }
        return out;
    }

    /** Variables for a step's rows, 0 until loaded. */
    Expr.Var[][][] declare(K.Body b) {
        Expr.Var[][][] out = new Expr.Var[keys][2][dpl];
        for (int kk = 0; kk < keys; kk++)
            for (int i = 0; i < dpl; i++) {
                out[kk][0][i] = b.let(b.fresh("k_next"), f(0));
                out[kk][1][i] = b.let(b.fresh("v_next"), f(0));
            }
        return out;
    }

    /**
     * The step from position {@code t} into {@code step} (declared by {@link #declare}): key {@code kk}'s rows at
     * {@link #position}{@code (t, kk, end)}, where {@code where} holds for that position (null: every key).
     */
    void loadStep(K.Body b, Expr t, Expr end, Expr.Var[][][] step, java.util.function.Function<Expr, Expr> where) {
        for (int kk = 0; kk < keys; kk++) {
            Expr.Var[][] into = step[kk];
            Expr at = position(t, kk, end);
            if (where == null) load(b, at, into);
            else b.ifThen(where.apply(at), x -> load(x, at, into));
        }
    }

    /** The rows at position {@code pos} into {@code into} ({@code [2][dpl]}). */
    private void load(K.Body b, Expr pos, Expr.Var[][] into) {
        Expr[][] e = read(b, pos);
        for (int i = 0; i < dpl; i++) {
            b.assign(into[0][i], e[0][i]);
            b.assign(into[1][i], e[1][i]);
        }
    }

    /** What {@code step} holds now, in fresh variables of {@code b} (before {@code step} is loaded again). */
    Expr.Var[][][] copy(K.Body b, Expr.Var[][][] step) {
        Expr.Var[][][] out = new Expr.Var[keys][2][dpl];
        for (int kk = 0; kk < keys; kk++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < dpl; i++) out[kk][j][i] = b.let(b.fresh(j == 0 ? "k" : "v"), step[kk][j][i]);
        return out;
    }

    /** The lane's dims of the K and V rows at {@code pos}, the loads made in {@code b} (a dim past the head reads its last). */
    private Expr[][] read(K.Body b, Expr pos) {
        Expr.Var base = b.let(b.fresh("kv_base"), mul(add(mul(kvHead, c(ctxLen)), pos), c(hd)));
        Expr[][] out = new Expr[2][dpl];
        if (words) {
            for (int i = 0; i < dpl; i += 4) {
                Expr.Var at4 = b.let(b.fresh("kv_at"), add(base, dim.apply(i)));
                java.util.List<Expr> ks = k.load4(b, at4), vs = v.load4(b, at4);
                for (int j = 0; j < 4; j++) {
                    out[0][i + j] = ks.get(j);
                    out[1][i + j] = vs.get(j);
                }
            }
            return out;
        }
        for (int i = 0; i < dpl; i++) {
            Expr d = min(dim.apply(i), c(hd - 1));
            out[0][i] = k.load(add(base, d));
            out[1][i] = v.load(add(base, d));
        }
        return out;
    }
}
