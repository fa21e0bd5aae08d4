#!/usr/bin/env python3
"""Where does a jmlc decode GEMV lose its time against a kernel that only reads (issue 12)?

Reads the CUDA kernels `jmlc compile --emit` wrote for a model and writes a header of ablated copies of the GEMVs a
decode step launches once a layer (their order as the step's), for bench/gemv-ablation/step.cu to time:
  asis       the kernel as emitted;
  nostage    without the prologue after its grid dependency's wait: no x read, no norm, no staging of x in shared
             memory, no barrier (the dot products then read whatever the shared memory holds: times, not values);
  nowait     as nostage, and no griddepcontrol.wait either: weights only, as the floor probe's kernels;
  nocompute  as nowait, and each batch's dot products replaced by an XOR of its weight words: the ring alone.
Each cut is textual, on the emitter's own layout (the wait's line; the prologue up to the barrier before the first
`float acc0`; the `if (okN) {` blocks that call jmlc_hfma2/jmlc_dot4), so a layout change fails loudly here.

usage: ablate.py EMIT_DIR OUT_HEADER
"""
import csv
import re
import sys

VARIANTS = ["asis", "nostage", "nowait", "nocompute"]


def block_end(lines, start):
    """Index of the line closing the brace block opened on lines[start]."""
    depth = 0
    for i in range(start, len(lines)):
        depth += lines[i].count("{") - lines[i].count("}")
        if depth == 0:
            return i
    raise SystemExit("unbalanced braces from line %d" % (start + 1))


def cut(src, variant, name):
    lines = src.split("\n")
    wait = [i for i, l in enumerate(lines) if "griddepcontrol.wait;" in l]
    acc0 = [i for i, l in enumerate(lines) if l.strip() == "float acc0 = 0.0f;"]
    if len(wait) != 1 or len(acc0) != 1:
        raise SystemExit("%s: expected one griddepcontrol.wait and one 'float acc0' (found %d, %d): the emitter's layout changed"
                         % (name, len(wait), len(acc0)))
    w, a = wait[0], acc0[0]
    if variant == "asis":
        return src
    keep_wait = variant == "nostage"
    out = lines[:w] + ([lines[w]] if keep_wait else []) + lines[a:]
    if variant != "nocompute":
        return "\n".join(out)
    # each `if (okN) {` block that computes: replaced by an XOR of the weight words loaded this batch into acc0
    words = sorted(set(re.findall(r"uint4 (wv\d+) = make_uint4\(0u", src)), key=lambda s: int(s[2:]))
    if not words:
        raise SystemExit("%s: no weight registers (uint4 wvN) found" % name)
    res, i = [], 0
    while i < len(out):
        l = out[i]
        if re.match(r"\s*if \(ok\d+\) \{$", l):
            end = block_end(out, i)
            body = "\n".join(out[i:end + 1])
            if "jmlc_hfma2" in body or "jmlc_dot4" in body:
                ind = l[:len(l) - len(l.lstrip())]
                used = [v for v in words if v in body]
                x = " ^ ".join("%s.x ^ %s.y ^ %s.z ^ %s.w" % (v, v, v, v) for v in used) or "0u"
                res.append("%sacc0 += __uint_as_float((%s) & 0x3f800000u); // ablated: the dot products" % (ind, x))
                i = end + 1
                continue
        res.append(l)
        i += 1
    return "\n".join(res)


def params(src, name):
    m = re.search(r'extern "C" __global__ void __launch_bounds__\(\d+\) %s\((.*?)\) \{' % re.escape(name), src)
    if not m:
        raise SystemExit("%s: kernel signature not found" % name)
    out = []
    for p in m.group(1).split(","):
        p = p.strip()
        pname = p.split()[-1].lstrip("*")
        kind = "f32" if p.startswith("const float*") or p.startswith("float*") else \
               "f16" if "unsigned short*" in p else "u32" if "unsigned int*" in p else "int"
        out.append("%s:%s" % (pname, kind))
    return ",".join(out)


def main():
    emit, header = sys.argv[1], sys.argv[2]
    rows = list(csv.DictReader(open(emit + "/index.tsv"), delimiter="\t"))
    gemvs = [r for r in rows if r["kernel"].startswith("gemvh_") and int(r["decode_launches"]) > 1]
    if not gemvs:
        raise SystemExit(emit + "/index.tsv: no GEMV launched more than once a decode step")
    helpers_done = False
    body, table = [], []
    for r in gemvs:
        name = r["kernel"]
        src = open(emit + "/" + r["file"]).read()
        launch = re.search(r"// launch: block (\d+)x1x1, grid \((\d+), seq, 1\)", src)
        smem = re.search(r"jmlc_dynamic_shared\[\]; // (\d+) bytes", src)
        shape = re.search(r"_(\d+)x(\d+)_", name)
        if not (launch and smem and shape):
            raise SystemExit("%s: launch line, dynamic shared memory or shape not found" % name)
        start = src.index('extern "C"')
        if not helpers_done:
            body.append(src[:start])
            helpers_done = True
        kernel = src[start:]
        for v in VARIANTS:
            k = cut(kernel, v, name).replace(name + "(", "%s_%s(" % (name, v), 1)
            body.append(k)
            table.append('    {"%s", "%s", (const void*)%s_%s, %s, %s, %s, %s, %s, "%s"},'
                         % (name, v, name, v, launch.group(2), launch.group(1), smem.group(1),
                            shape.group(1), shape.group(2), params(src, name)))
    with open(header, "w") as f:
        f.write("// generated by bench/gemv-ablation/ablate.py from %s: do not edit\n" % emit)
        f.write("\n".join(body))
        f.write("\nstatic const Ablated ABLATED[] = {\n%s\n};\n" % "\n".join(table))
        f.write("static const char* VARIANTS[] = {%s};\n" % ", ".join('"%s"' % v for v in VARIANTS))


if __name__ == "__main__":
    main()
