package jmlc.compiler.schedule.rule;

import jmlc.compiler.ir.QuantScheme;
import jmlc.compiler.ir.Value;
import jmlc.compiler.kernel.Buffer;
import jmlc.compiler.kernel.Expr;
import jmlc.compiler.kernel.K;
import jmlc.compiler.kernel.KType;
import jmlc.compiler.kernel.Shared;
import jmlc.compiler.schedule.LaunchBuilder;

import java.util.ArrayList;
import java.util.List;

import static jmlc.compiler.kernel.K.*;

/**
 * One K step's operand tiles in registers: x as {@code bm × 32} f32 values (float4 loads; f16 x as pairs, 8 bytes a load), w as
 * {@code bn} rows of 32 values (u32x4 words of packed values, and the row's group scale). Every
 * thread loads the same slots each step; indices are clamped so loads stay in bounds and the
 * stores skip slots beyond the tile.
 */
final class GemmTiles {
    static final int BK = GemmRule.BK;
    final LaunchBuilder lb;
    final Buffer x, data, scales;
    final Value w;
    final QuantScheme qs;
    final boolean quant;
    final int k, n, e, bm, bn, threads, stride, x4PerRow, x4, xIters, wIters, v4PerRow;
    final Expr m0, n0;
    final Shared xs, ws;
    final Expr.Var[] xv, wsc;
    final Expr.Var[][] wv;

    GemmTiles(LaunchBuilder lb, Buffer x, Buffer data, Buffer scales, Value w, QuantScheme qs, boolean quant, int k, int n, int e,
          int bm, int bn, int threads, Expr m0, Expr n0, Shared xs, Shared ws, int stride) {
        this.lb = lb;
        this.x = x;
        this.data = data;
        this.scales = scales;
        this.w = w;
        this.qs = qs;
        this.quant = quant;
        this.k = k;
        this.n = n;
        this.e = e;
        this.bm = bm;
        this.bn = bn;
        this.threads = threads;
        this.m0 = m0;
        this.n0 = n0;
        this.xs = xs;
        this.ws = ws;
        this.stride = stride;
        this.x4PerRow = BK / 4;
        this.x4 = bm * x4PerRow;
        this.xIters = (x4 + threads - 1) / threads;
        this.wIters = (bn + threads - 1) / threads;
        this.v4PerRow = BK / e / 4;
        this.xv = new Expr.Var[xIters];
        this.wsc = new Expr.Var[wIters];
        this.wv = new Expr.Var[wIters][v4PerRow];
    }

    /** Whether x is stored as f16 (HalfMatmulInputs): its 4 values a load are then 2 words of pairs, staged as they are. */
    private boolean half() {
        return x.element().equals(KType.F16);
    }

    private static Expr.Var set(K.Body body, Expr.Var[] slots, int i, String name, Expr value, boolean declare) {
        if (declare) slots[i] = body.let(body.fresh(name), value);
        else body.assign(slots[i], value);
        return slots[i];
    }

    /** Loads the tiles of the K step at {@code kAt} into the registers ({@code declare}: first time, as new variables). */
    void fetch(K.Body body, Expr kAt, boolean declare) {
        for (int it = 0; it < xIters; it++) {
            Expr.Var id = body.let(body.fresh("xi"), min(add(tid(0), c(it * threads)), c(x4 - 1)));
            Expr row = min(add(m0, div(id, c(x4PerRow))), sub(lb.seq(), c(1)));
            set(body, xv, it, "xv", load(x, div(add(mul(row, c(k)), add(kAt, mul(mod(id, c(x4PerRow)), c(4)))), c(4)), half() ? KType.U32X2 : KType.F32X4), declare);
        }
        for (int it = 0; it < wIters; it++) {
            Expr.Var row = body.let(body.fresh("wn"), min(add(n0, min(add(tid(0), c(it * threads)), c(bn - 1))), c(n - 1)));
            if (quant) set(body, wsc, it, "wsc", loadF32(scales, div(add(mul(row, c(k)), kAt), c(qs.groupSize()))), declare);
            Expr.Var base = body.let(body.fresh("wb"), div(add(mul(row, c(k)), kAt), c(e)));
            for (int v4 = 0; v4 < v4PerRow; v4++) set(body, wv[it], v4, "wv", load(data, add(div(base, c(4)), c(v4)), KType.U32X4), declare);
        }
    }

    /** Converts the registers' tiles to f16 pairs in shared memory: x rows past seq as zeros, w dequantized. */
    void toShared(K.Body s) {
        for (int it = 0; it < xIters; it++) {
            Expr idx = add(tid(0), c(it * threads));
            Expr.Var v = xv[it];
            s.ifThen(lt(idx, c(x4)), st -> {
                Expr.Var r = st.let(st.fresh("xr"), div(idx, c(x4PerRow)));
                Expr.Var c4 = st.let(st.fresh("xc"), mod(idx, c(x4PerRow)));
                Expr.Var ok = st.let(st.fresh("xok"), lt(add(m0, r), lb.seq()));
                for (int p = 0; p < 2; p++) {
                    Expr pair = half() ? select(ok, lane(v, p), u(0)) : halves(select(ok, lane(v, 2 * p), f(0)), select(ok, lane(v, 2 * p + 1), f(0)));
                    st.sstore(xs, add(mul(r, c(stride)), p == 0 ? mul(c4, c(2)) : add(mul(c4, c(2)), c(1))), pair);
                }
            });
        }
        for (int it = 0; it < wIters; it++) {
            Expr rr = add(tid(0), c(it * threads));
            int itc = it;
            s.ifThen(lt(rr, c(bn)), st -> {
                List<Expr> vals = new ArrayList<>();
                for (int v4 = 0; v4 < v4PerRow; v4++)
                    for (int l = 0; l < 4; l++)
                        for (int j = 0; j < e; j++) vals.add(GemvRule.unpack(w, lane(wv[itc][v4], l), j));
                for (int p = 0; p < BK / 2; p++) {
                    Expr lo = vals.get(2 * p), hi = vals.get(2 * p + 1);
                    if (quant) {
                        lo = mul(lo, wsc[itc]);
                        hi = mul(hi, wsc[itc]);
                    }
                    st.sstore(ws, add(mul(rr, c(stride)), c(p)), halves(lo, hi));
                }
            });
        }
    }
}
