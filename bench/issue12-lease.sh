#!/usr/bin/env bash
# Issue 12's open measurements in one lease (starts are scarce: one call to the GPU machine takes them all; on an H100,
# 2026-12-07, steps 0 to 2 took 82 s and steps 3 to 6 196 s; each step's log lands in $OUT even if the lease ends
# early, so the cheapest and most needed come first):
#   0. bench/stream-floor-probe.sh: what any kernel that only reads pays at these sizes on this card, with its first
#      loads before the grid dependency's wait, and with that wait a spin on the previous launch's counter (slower than
#      griddepcontrol.wait on the H100, 2026-12-07); and (new 2026-12-07, not yet run) with shared memory held but not
#      used, 90 KiB at 2 blocks an SM as jmlc's ring of 4 (no room for the next kernel's blocks) against 50 KiB (room);
#   1. bench/gpu-suite.sh bench for Llama-2-7B: decode, the captured step against its kernels one at a time, and the
#      per-kernel table timed over each kernel's calls (a layer's each on its own weights, so no matrix from the L2);
#   2. the decode attention's splits as one thread block cluster merging through distributed shared memory (knob
#      cluster; on the H100 it tied the defaults on 7B and lost 7% on 8B, 2026-12-07: this asks the H200): end to end on 7B and 8B,
#      the defaults (short-context program below 10 positions a KV head, 32 splits and a combine above) against 8 splits
#      clustered, 8 splits with the combine (the same splits, the control), and both with the short-context program off
#      (positions=0), so the attention at every position is the one compared;
#   3. bench/knob-compare.sh end to end on 7B: sm_90's defaults (ring of 4 stages, early trigger, since 2026-12-07 the
#      scales copied in 16-byte pieces a subgroup and 2 rows a subgroup), a ring of 3, 5 and 6 stages (the H200 streams
#      1.4 times the H100's bytes with the same SMs: it may want more in flight), the register loop with its early
#      trigger (trigger 2), with and without its first batch before the wait, each GEMV shape compiled as its fastest
#      variant per kernel ("best"); the scales a word a lane (ring_scales 1) and with that 4 rows a subgroup (the
#      defaults before 2026-12-07, the tall matrices; on an H100 3.2% slower on 7B); and 16 warps a block (w16: one
#      block an SM with the ring, half the x stagings and norm reductions after the wait; asked, not yet run); and one or
#      two of the ring's first batches copied right after the wait (after_wait 1, 2: copies in flight through the prologue);
#      and the norms' f32 x and gain read as a subgroup's consecutive float4s (x_coalesce 1: half the L2 sectors), alone
#      and with after_wait 1 (on an H100, 2026-12-07: after_wait 2 to 3% slower everywhere, x_coalesce +0.7, +0.6, -0.9%);
#      and only 1 or 2 of the ring's first batches copied before the wait (before_wait 1, 2: x's loads behind fewer
#      copies; on an H100, 2026-12-07, 7B -5.0 and -1.3%, 8B -4.7 and -1.0%, 13B -7.0 and -1.0%); and the ring's batches
#      as bulk copies by each subgroup's first lane on copy barriers (ring_copy 1: cp.async.bulk, the copy engine, whose
#      copies do not queue ahead of x's loads; on an H100, 2026-12-08, no gain), alone and with one batch right after the
#      wait (baw1);
#   4. the same knob-compare on Llama-3-8B and Llama-2-13B (decode only);
#   5. bench/ncu-decode.sh gemvh: Nsight Compute on one layer's GEMVs (the defaults);
#   6. bench/tune.sh 60s on 7B: the defaults against what `jmlc tune` keeps on this card (per kernel, then the decode step);
#   7. where .device/baseline holds another build (bench/pack-baseline.sh REV here): bench/baseline-compare.sh on 7B and 8B,
#      this tree against it (2026-12-07: the ring's loop was rotated for after_wait, its defaults' order unchanged: pack
#      660c968 to check that it costs nothing).
#   8. (run first: the newest question; built 2026-12-08, not yet run) the ring's last first batch, or its last two,
#      copied once x's loads after the wait are issued (after_x 1, 2; with 5 stages, 3 before the wait and 2 after x's
#      loads: s5ax2), so copies stream through x's trip from the L2 behind x's loads, where after_wait's went ahead of
#      them: knob-compare end to end on 7B, 8B and 13B against the defaults (each model's variants in one run);
#   9. (run second; built 2026-12-08, not yet run) the decode attention's rows loaded a loop step ahead, the first step's
#      before the grid dependency's wait (kv_ahead 1; with kv_prefetch 1 too): knob-compare end to end on 7B and 8B, and
#      bench/short-context-sweep.sh on 7B without and with it (each decode program's step at positions 0 to 4000: long
#      contexts, where kv_prefetch lost).
#
# Here (no GPU):   install/setup.sh && ../shared/device/pack.sh engine/target/jmlc-engine.jar engine/target/lib
# On the GPU host: bash bench/issue12-lease.sh [STEP...]   (all steps, or the numbered ones: `3 4 5` for a second call
#                  when one call of at most 10 minutes cannot hold them all; logs in $OUT or ., one a step; a summary)
set -uo pipefail
cd "$(dirname "$0")/.."
steps=" ${*:-8 9 0 1 2 3 4 5 6 7} "
out="${OUT:-.}"
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$out/card.txt"
git log -1 --format='main at %h' 2>/dev/null | tee -a "$out/card.txt" || true

variants=(--variant def: --variant s3:stages=3 --variant s5:stages=5 --variant s6:stages=6 --variant reg:stages=0,trigger=2 --variant reg2:stages=0,trigger=2,pipeline=2
          --variant words:ring_scales=1 --variant words4:ring_scales=1,rows_per_warp=4 --variant w16:warps=16
          --variant aw1:after_wait=1 --variant aw2:after_wait=2 --variant xc:x_coalesce=1 --variant awxc:after_wait=1,x_coalesce=1
          --variant bw1:before_wait=1 --variant bw2:before_wait=2 --variant bulk:ring_copy=1 --variant baw1:ring_copy=1,after_wait=1)
step() { # name, command...: runs it with its log in $out/NAME.log, and says how it ended
    local name=$1; shift
    [[ $steps == *" ${name%%-*} "* ]] || return 1
    local t0=$SECONDS
    "$@" > "$out/$name.log" 2>&1
    echo "== $name: exit $? after $((SECONDS - t0)) s"
}
for m in llama-2-7b llama-3-8b llama-2-13b; do
    step 8-afterx-${m#llama-} bash bench/knob-compare.sh --model synthetic:$m --kernels gemvh --decode-only def,ax1,ax2,s5ax2 \
        --variant def: --variant ax1:after_x=1 --variant ax2:after_x=2 --variant s5ax2:stages=5,after_x=2 &&
    grep -E 'FAIL|differ|decode|tok/s' "$out/8-afterx-${m#llama-}.log" | tail -8
done
for m in llama-2-7b llama-3-8b; do
    step 9-ahead-${m#llama-} bash bench/knob-compare.sh --model synthetic:$m --kernels attention_decode --decode-only def,ka,kapf \
        --variant def: --variant ka:kv_ahead=1 --variant kapf:kv_ahead=1,kv_prefetch=1 &&
    grep -E 'FAIL|differ|decode|tok/s' "$out/9-ahead-${m#llama-}.log" | tail -8
done
step 9-ahead-sweep0 bash bench/short-context-sweep.sh --model synthetic:llama-2-7b &&
tail -12 "$out/9-ahead-sweep0.log"
step 9-ahead-sweep bash bench/short-context-sweep.sh --model synthetic:llama-2-7b --attention kv_ahead=1 &&
tail -12 "$out/9-ahead-sweep.log"
step 0-floor bash bench/stream-floor-probe.sh &&
sed -n '/^2\./,$p' "$out/0-floor.log"
step 1-suite-bench bash bench/gpu-suite.sh bench --models synthetic:llama-2-7b &&
grep -E 'decode [0-9.]+ tok/s|kernel |sum of|FAIL|agree' "$out/1-suite-bench.log" | head -20
attention=(--variant def: --variant c8:splits=8,cluster=1 --variant s8:splits=8
           --variant c8all:splits=8,cluster=1,decode_short_context.positions=0 --variant s8all:splits=8,decode_short_context.positions=0
           --variant s32all:decode_short_context.positions=0)
for m in llama-2-7b llama-3-8b; do
    step 2-cluster-${m#llama-} bash bench/knob-compare.sh --model synthetic:$m --kernels attention_decode --decode-only def,c8,s8,c8all,s8all,s32all "${attention[@]}" &&
    grep -E 'FAIL|differ|decode|tok/s' "$out/2-cluster-${m#llama-}.log" | tail -10
done
step 3-knobs-7b bash bench/knob-compare.sh --model synthetic:llama-2-7b --kernels gemvh --decode-only def,s3,s5,s6,reg,reg2,words,words4,w16,aw1,aw2,xc,awxc,bw1,bw2,bulk,baw1,best "${variants[@]}" &&
grep -E 'decode|tok/s' "$out/3-knobs-7b.log" | tail -8
step 4-knobs-8b bash bench/knob-compare.sh --model synthetic:llama-3-8b --kernels gemvh --decode-only def,s5,words4,w16,xc,bw1,bw2,bulk,baw1 "${variants[@]}" &&
grep -E 'decode|tok/s' "$out/4-knobs-8b.log" | tail -5
step 4-knobs-13b bash bench/knob-compare.sh --model synthetic:llama-2-13b --kernels gemvh --decode-only def,s5,words4,w16,xc,bw1,bw2,bulk,baw1 "${variants[@]}" &&
grep -E 'decode|tok/s' "$out/4-knobs-13b.log" | tail -5
step 5-ncu bash bench/ncu-decode.sh gemvh &&
tail -40 "$out/5-ncu.log"
step 6-tune-7b bash bench/tune.sh 60s &&
tail -15 "$out/6-tune-7b.log"
if [[ -d .device/baseline ]]; then
    step 7-baseline bash bench/baseline-compare.sh --model synthetic:llama-2-7b --model synthetic:llama-3-8b &&
    grep round "$out/7-baseline.log"
fi
