package jmlc.compiler.ir;

import java.util.ArrayList;
import java.util.List;

/**
 * Any matmul node ({@code matmul}, {@code qmatmul}, {@code matmul_fused}) taken apart into what a
 * fused matmul is made of: fusion passes add a prologue or an epilogue to whichever form they
 * find and rebuild a {@link Op.FusedMatMul}; schedule rules read every form the same way.
 * Absent parts are null. {@code out} is the element type the output is stored in (f32, or f16: {@link Op.FusedMatMul}).
 */
public record MatmulParts(Value x, Op.Prologue prologue, Value normWeight, Value w, Value bias, Value residual, boolean siluMulPairs, DType out) {

    /** The parts of {@code n}, or null if it is no matmul. */
    public static MatmulParts of(Node n) {
        return switch (n.op()) {
            case Op.QMatMul q -> new MatmulParts(n.input(0), new Op.Prologue.None(), null, n.input(1), n.inputs().size() == 3 ? n.input(2) : null, null, false, DType.F32);
            case Op.MatMul m -> new MatmulParts(n.input(0), new Op.Prologue.None(), null, n.input(1), n.inputs().size() == 3 ? n.input(2) : null, null, false, DType.F32);
            case Op.FusedMatMul f -> new MatmulParts(n.input(0), f.prologue(), f.prologue() instanceof Op.Prologue.RmsNorm ? n.input(1) : null,
                    n.input(f.weightIndex()), f.bias() ? n.input(f.biasIndex()) : null, f.residual() ? n.input(f.residualIndex()) : null, f.siluMulPairs(), f.out());
            default -> null;
        };
    }

    public boolean hasPrologue() {
        return !(prologue instanceof Op.Prologue.None);
    }

    /** Columns of the weight: the inner dimension. */
    public long k() {
        return w.type().shape().dim(1).size();
    }

    public long n() {
        return w.type().shape().dim(0).size();
    }

    public MatmulParts withPrologue(Value x, Op.Prologue p, Value g) {
        return new MatmulParts(x, p, g, w, bias, residual, siluMulPairs, out);
    }

    public MatmulParts withResidual(Value r) {
        return new MatmulParts(x, prologue, normWeight, w, bias, r, siluMulPairs, out);
    }

    public MatmulParts withSiluMulPairs(Value weight) {
        return new MatmulParts(x, prologue, normWeight, weight, bias, residual, true, out);
    }

    /** These parts writing their output as {@code dtype}. */
    public MatmulParts writing(DType dtype) {
        return new MatmulParts(x, prologue, normWeight, w, bias, residual, siluMulPairs, dtype);
    }

    public Op.FusedMatMul op() {
        return new Op.FusedMatMul(prologue, bias != null, residual != null, siluMulPairs, out);
    }

    public List<Value> inputs() {
        List<Value> in = new ArrayList<>();
        in.add(x);
        if (normWeight != null) in.add(normWeight);
        in.add(w);
        if (bias != null) in.add(bias);
        if (residual != null) in.add(residual);
        return in;
    }
}
