package jmlc.compiler.kernel;

/**
 * A 16×16 matrix one subgroup holds together, spread over its lanes in a layout the driver chooses
 * (Vulkan's cooperative matrices, {@link Capabilities.MatrixUnit#COOPERATIVE_16X16X16}): no lane can
 * name its part, so a kernel only fills it, loads it from shared memory, multiplies and accumulates
 * it, and stores it back ({@link Stmt.TileLoad}, {@link Stmt.TileMma} ...). Each subgroup has its own
 * copy, as with a local variable; a kernel declares its tiles by using them.
 *
 * @param name a kernel-wide name
 * @param use  {@code A} (16×16 f16, the left operand), {@code B} (16×16 f16, the right) or
 *             {@code ACC} (16×16 f32, the accumulator)
 */
public record MatrixTile(String name, Use use) {
    public enum Use { A, B, ACC }

    /** Rows and columns of every tile (the one shape the cooperative unit is used at). */
    public static final int SIZE = 16;
}
