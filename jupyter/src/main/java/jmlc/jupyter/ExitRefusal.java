package jmlc.jupyter;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassTransform;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.CodeElement;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.DirectMethodHandleDesc;
import java.lang.constant.DynamicCallSiteDesc;
import java.lang.constant.MethodHandleDesc;
import java.lang.constant.MethodTypeDesc;

/**
 * Keeps notebook cells from ending the kernel. Cells run in the kernel's own JVM (JShell's local
 * execution, so that cells and magics share objects), where {@code System.exit(n)} would end the
 * kernel and lose every variable of the session. The classes JShell makes of cells are rewritten as
 * they load ({@link InProcessExecution#load}): calls of {@code System.exit}, {@code Runtime.exit} and
 * {@code Runtime.halt}, and method references to them, call the methods here instead, which throw.
 *
 * <p>Not covered: exits made by library code a cell calls, and calls through reflection or method
 * handles looked up at run time. (Java 24 removed the Security Manager, the one way to veto an
 * exit of the whole JVM.)
 */
public final class ExitRefusal {
    private ExitRefusal() {}

    private static final ClassDesc SELF = ClassDesc.of(ExitRefusal.class.getName());
    private static final ClassDesc SYSTEM = ClassDesc.of("java.lang.System");
    private static final ClassDesc RUNTIME = ClassDesc.of("java.lang.Runtime");
    private static final MethodTypeDesc INT_TO_VOID = MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_int);
    private static final MethodTypeDesc RUNTIME_INT_TO_VOID = MethodTypeDesc.of(ConstantDescs.CD_void, RUNTIME, ConstantDescs.CD_int);

    /** Replaces {@code System.exit(status)} in cells. */
    public static void exit(int status) {
        throw refused("System.exit(" + status + ")");
    }

    /** Replaces {@code runtime.exit(status)} in cells. */
    public static void exit(Runtime runtime, int status) {
        throw refused("Runtime.exit(" + status + ")");
    }

    /** Replaces {@code runtime.halt(status)} in cells. */
    public static void halt(Runtime runtime, int status) {
        throw refused("Runtime.halt(" + status + ")");
    }

    private static UnsupportedOperationException refused(String call) {
        return new UnsupportedOperationException(call + " is refused in a notebook cell: cells run inside the kernel, so it would end the"
                + " kernel and lose every variable. To start over, restart the kernel (Kernel > Restart).");
    }

    /** {@code classFile} with its exits replaced; a class without any comes back equivalent. */
    static byte[] rewrite(byte[] classFile) {
        ClassFile cf = ClassFile.of();
        return cf.transformClass(cf.parse(classFile), ClassTransform.transformingMethodBodies(ExitRefusal::rewrite));
    }

    private static void rewrite(CodeBuilder code, CodeElement e) {
        switch (e) {
            case InvokeInstruction call when replacement(call.opcode(), call.owner().asSymbol(), call.name().stringValue(), call.typeSymbol()) instanceof DirectMethodHandleDesc r ->
                    code.invokestatic(SELF, r.methodName(), r.invocationType());
            case InvokeDynamicInstruction indy -> code.invokedynamic(withoutExits(indy));
            default -> code.with(e);
        }
    }

    /** An invokedynamic whose bootstrap arguments name an exit (a method reference such as System::exit) gets ours instead. */
    private static DynamicCallSiteDesc withoutExits(InvokeDynamicInstruction indy) {
        ConstantDesc[] args = indy.bootstrapArgs().toArray(ConstantDesc[]::new);
        for (int i = 0; i < args.length; i++) {
            if (args[i] instanceof DirectMethodHandleDesc h) {
                Opcode op = switch (h.kind()) {
                    case STATIC -> Opcode.INVOKESTATIC;
                    case VIRTUAL -> Opcode.INVOKEVIRTUAL;
                    default -> null;
                };
                if (op != null && replacement(op, h.owner(), h.methodName(), h.invocationType().dropParameterTypes(0, op == Opcode.INVOKEVIRTUAL ? 1 : 0)) instanceof DirectMethodHandleDesc r)
                    args[i] = r;
            }
        }
        return DynamicCallSiteDesc.of(indy.bootstrapMethod(), indy.name().stringValue(), indy.typeSymbol(), args);
    }

    /** Our static method standing for this call, or null if it is no exit. */
    private static DirectMethodHandleDesc replacement(Opcode op, ClassDesc owner, String name, MethodTypeDesc type) {
        if (!type.equals(INT_TO_VOID)) return null;
        if (op == Opcode.INVOKESTATIC && owner.equals(SYSTEM) && name.equals("exit"))
            return MethodHandleDesc.ofMethod(DirectMethodHandleDesc.Kind.STATIC, SELF, "exit", INT_TO_VOID);
        if (op == Opcode.INVOKEVIRTUAL && owner.equals(RUNTIME) && (name.equals("exit") || name.equals("halt")))
            return MethodHandleDesc.ofMethod(DirectMethodHandleDesc.Kind.STATIC, SELF, name, RUNTIME_INT_TO_VOID);
        return null;
    }
}
